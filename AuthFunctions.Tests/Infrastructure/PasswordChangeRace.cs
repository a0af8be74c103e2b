using System.Net;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>What every race of password changes of one account must end with, whatever else raced beside them.</summary>
public static class PasswordChangeRace
{
    /// <summary>
    /// Exactly one change answered 204 and at least one was told of the conflict (409, it read the account before the
    /// winner wrote); every other got 409 or, if it read after the winner, 401 (its current password no longer is), as
    /// Problem Details. Returns the winning candidate.
    /// </summary>
    public static async Task<string> AssertExactlyOneWinnerAsync(IReadOnlyList<HttpResponseMessage> changes, IReadOnlyList<string> candidates)
    {
        Assert.Equal(1, changes.Count(a => a.StatusCode == HttpStatusCode.NoContent));
        Assert.Contains(changes, a => a.StatusCode == HttpStatusCode.Conflict);
        foreach (var loser in changes.Where(a => a.StatusCode != HttpStatusCode.NoContent))
        {
            Assert.Contains(loser.StatusCode, new[] { HttpStatusCode.Conflict, HttpStatusCode.Unauthorized });
            await ProblemAssert.IsProblemAsync(loser, loser.StatusCode);
        }
        return candidates[changes.ToList().FindIndex(a => a.StatusCode == HttpStatusCode.NoContent)];
    }
}
