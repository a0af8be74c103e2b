using AuthFunctions.Storage;
using AuthFunctions.Users;
using Azure.Data.Tables;

namespace AuthFunctions.Federation;

/// <summary>A sign-in (or link) on its way through the provider, keyed by the SHA-256 of its <c>state</c>.</summary>
public sealed record FederationFlow(string Provider, string ReturnTo, string Key, DateTimeOffset ExpiresAt)
{
    /// <summary>The static site's S256 challenge for the final exchange (sign-in only).</summary>
    public string? SiteChallenge { get; init; }

    /// <summary>The signed-in account a link adds the identity to (link only).</summary>
    public string? LinkUserId { get; init; }

    /// <summary>The session that asked for the link: a fresh sign-in with an identity already linked is recorded on it.</summary>
    public string? LinkSessionId { get; init; }
}

/// <summary>The one-time login code a sign-in ends with: spent by the holder of the site's PKCE verifier.</summary>
public sealed record LoginCodeGrant(string UserId, string SiteChallenge, SessionAssurance Assurance, DateTimeOffset ExpiresAt);

/// <summary>A one-time link ticket: lets a top-level navigation (no bearer) act for the signed-in account.</summary>
public sealed record LinkTicket(string UserId, string SessionId, DateTimeOffset ExpiresAt);

/// <summary>
/// The short-lived one-time rows of federation in the <c>oidcflows</c> table, each in a partition of its own named by
/// the SHA-256 of its secret (the secret itself is never stored): RowKey <c>state</c>, <c>login-code</c> or
/// <c>link-ticket</c>. Each is spent by a delete conditional on the row as read, so of concurrent uses on any number of
/// instances exactly one wins. <c>cleanup</c> deletes the expired ones.
/// </summary>
public sealed class FederationFlowStore(StorageTables tables)
{
    private const string StateRow = "state";
    private const string LoginCodeRow = "login-code";
    private const string LinkTicketRow = "link-ticket";

    private readonly StorageTable _flows = tables.Get("oidcflows");

    public async Task SaveFlowAsync(string stateHash, FederationFlow flow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(flow);
        await InsertAsync(new TableEntity(stateHash, StateRow)
        {
            ["Provider"] = flow.Provider,
            ["ReturnTo"] = flow.ReturnTo,
            ["Key"] = flow.Key,
            ["SiteChallenge"] = flow.SiteChallenge,
            ["LinkUserId"] = flow.LinkUserId,
            ["LinkSessionId"] = flow.LinkSessionId,
            ["ExpiresAt"] = flow.ExpiresAt,
        }, cancellationToken);
    }

    /// <summary>Spends the flow: null when unknown, already spent, or spent meanwhile by a concurrent callback.</summary>
    public async Task<FederationFlow?> TakeFlowAsync(string stateHash, CancellationToken cancellationToken) =>
        await TakeAsync(stateHash, StateRow, row => new FederationFlow(row.GetString("Provider") ?? "", row.GetString("ReturnTo") ?? "", row.GetString("Key") ?? "",
            row.GetTime("ExpiresAt") ?? default)
        {
            SiteChallenge = row.GetString("SiteChallenge"),
            LinkUserId = row.GetString("LinkUserId"),
            LinkSessionId = row.GetString("LinkSessionId"),
        }, cancellationToken);

    public async Task SaveLoginCodeAsync(string codeHash, LoginCodeGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        await InsertAsync(new TableEntity(codeHash, LoginCodeRow)
        {
            ["UserId"] = grant.UserId,
            ["SiteChallenge"] = grant.SiteChallenge,
            ["Amr"] = grant.Assurance.MethodsText,
            ["Acr"] = grant.Assurance.Level,
            ["ExpiresAt"] = grant.ExpiresAt,
        }, cancellationToken);
    }

    public async Task<LoginCodeGrant?> TakeLoginCodeAsync(string codeHash, CancellationToken cancellationToken) =>
        await TakeAsync(codeHash, LoginCodeRow, row => new LoginCodeGrant(row.GetString("UserId") ?? "", row.GetString("SiteChallenge") ?? "",
            SessionAssurance.FromStored(row.GetString("Amr"), row.GetString("Acr")), row.GetTime("ExpiresAt") ?? default), cancellationToken);

    public async Task SaveLinkTicketAsync(string ticketHash, LinkTicket ticket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        await InsertAsync(new TableEntity(ticketHash, LinkTicketRow) { ["UserId"] = ticket.UserId, ["SessionId"] = ticket.SessionId, ["ExpiresAt"] = ticket.ExpiresAt }, cancellationToken);
    }

    public async Task<LinkTicket?> TakeLinkTicketAsync(string ticketHash, CancellationToken cancellationToken) =>
        await TakeAsync(ticketHash, LinkTicketRow, row => new LinkTicket(row.GetString("UserId") ?? "", row.GetString("SessionId") ?? "", row.GetTime("ExpiresAt") ?? default), cancellationToken);

    /// <summary>Deletes up to <paramref name="max"/> rows that expired before <paramref name="now"/> (each conditional on the row read). Returns how many went.</summary>
    public async Task<int> DeleteExpiredAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        int deleted = 0;
        await foreach (var row in _flows.QueryAsync(TableClient.CreateQueryFilter($"ExpiresAt lt {now}"), ["PartitionKey", "RowKey"], maxPerPage: Math.Min(max, 1000), cancellationToken))
        {
            if (await _flows.DeleteAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken) == WriteOutcome.Done && ++deleted == max)
            {
                break;
            }
        }
        return deleted;
    }

    private async Task InsertAsync(TableEntity row, CancellationToken cancellationToken)
    {
        // 256 random bits: a key that exists already is not a case to handle, but it must never overwrite one.
        if (await _flows.InsertAsync(row, cancellationToken) != WriteOutcome.Done)
        {
            throw new InvalidOperationException("A one-time federation row with this key exists already.");
        }
    }

    private async Task<T?> TakeAsync<T>(string hash, string rowKey, Func<TableEntity, T> read, CancellationToken cancellationToken) where T : class
    {
        if (await _flows.GetAsync(hash, rowKey, cancellationToken) is not { } stored)
        {
            return null;
        }
        return await _flows.DeleteAsync(hash, rowKey, stored.ETag, cancellationToken) == WriteOutcome.Done ? read(stored.Entity) : null;
    }
}
