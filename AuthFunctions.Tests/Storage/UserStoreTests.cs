using AuthFunctions.Storage;
using AuthFunctions.Tests.Infrastructure;
using AuthFunctions.Users;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Tests.Storage;

/// <summary>The user store against a real Azurite: credential writes are conditional on the version read.</summary>
public sealed class UserStoreTests : IAsyncLifetime
{
    private ServicesHost? _services;

    private UserStore Users => _services!.Services.GetRequiredService<UserStore>();

    public async Task InitializeAsync() => _services = await ServicesHost.OverSharedAzuriteAsync();

    public async Task DisposeAsync() => await _services!.DisposeAsync();

    private async Task<UserAccount> NewAccountAsync()
    {
        var registered = await Users.RegisterAsync(TestApp.UniqueEmail(), "$2b$04$original.hash.original.hash.original.hash.origi", passwordNormalized: true, null, CancellationToken.None);
        return (await Users.GetAsync(registered.User!.Id, CancellationToken.None))!;
    }

    [Fact]
    public async Task AHashUpgradeReadBeforeAPasswordChangeDoesNotUndoIt()
    {
        var readAtLogin = await NewAccountAsync();
        var readForChange = (await Users.GetAsync(readAtLogin.Id, CancellationToken.None))!;
        Assert.NotNull(await Users.TryChangePasswordAsync(readForChange, "new-hash", CancellationToken.None));

        await Users.UpgradeHashAsync(readAtLogin, upgradedHash: "upgraded-old-hash", CancellationToken.None);

        Assert.Equal("new-hash", (await Users.GetAsync(readAtLogin.Id, CancellationToken.None))!.PasswordHash);
    }

    [Fact]
    public async Task AHashUpgradeOfAnUnchangedAccountIsStored()
    {
        var account = await NewAccountAsync();

        await Users.UpgradeHashAsync(account, upgradedHash: "upgraded-hash", CancellationToken.None);

        Assert.Equal("upgraded-hash", (await Users.GetAsync(account.Id, CancellationToken.None))!.PasswordHash);
    }

    [Fact]
    public async Task OfTwoChangesFromTheSameReadOnlyTheFirstIsWritten()
    {
        var account = await NewAccountAsync();

        var first = await Users.TryChangePasswordAsync(account, "first", CancellationToken.None);
        var second = await Users.TryChangePasswordAsync(account, "second", CancellationToken.None);

        Assert.Equal(account.Profile.SessionEpoch + 1, first);
        Assert.Null(second);
        Assert.Equal("first", (await Users.GetAsync(account.Id, CancellationToken.None))!.PasswordHash);
    }

    /// <summary>
    /// A login's transaction that was committed but whose answer was lost (a dropped connection) is sent again by the
    /// SDK and refused as already there: that is the same session, stored, not a failure (it used to be a 500).
    /// </summary>
    [Fact]
    public async Task ASessionWhoseCommittedTransactionIsSentAgainIsStoredOnce()
    {
        var account = await NewAccountAsync();
        var losing = new LoseFirstTransactionAnswer();
        var options = new TableClientOptions();
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.AddPolicy(losing, HttpPipelinePosition.PerRetry);
        var client = new TableServiceClient((await AzuriteServer.Shared).ConnectionString, options);
        var sessions = new SessionStore(new StorageTables(client, _services!.Services.GetRequiredService<IOptions<StorageOptions>>()));
        var now = DateTimeOffset.UtcNow;
        var session = new Session
        {
            UserId = account.Id, Id = Guid.NewGuid().ToString("N"), Epoch = account.Profile.SessionEpoch, CreatedAt = now, LastUsedAt = now,
            RefreshExpiresAt = now.AddDays(1), RefreshTokenHash = "hash",
        };

        Assert.True(await sessions.CreateAsync(session, CancellationToken.None));

        Assert.Equal(2, losing.Transactions);
        Assert.NotNull(await sessions.GetAsync(account.Id, session.Id, CancellationToken.None));
    }

    /// <summary>Lets every transaction reach the service, and loses the first one's answer as a dropped connection would.</summary>
    private sealed class LoseFirstTransactionAnswer : HttpPipelinePolicy
    {
        private int _transactions;

        public int Transactions => _transactions;

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ProcessNext(message, pipeline);
            LoseFirst(message);
        }

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            LoseFirst(message);
        }

        private void LoseFirst(HttpMessage message)
        {
            if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) && Interlocked.Increment(ref _transactions) == 1)
            {
                throw new IOException("The connection dropped before the answer arrived.");
            }
        }
    }
}
