using AuthFunctions.Tests.Infrastructure;
using AuthFunctions.Users;

namespace AuthFunctions.Tests.Storage;

/// <summary>The user store against a real Azurite: credential writes are conditional on the version read.</summary>
public sealed class UserStoreTests : IAsyncLifetime
{
    private ServicesHost? _services;

    private UserStore Users => _services!.Services.GetRequiredService<UserStore>();

    public async Task InitializeAsync()
    {
        var azurite = await AzuriteServer.Shared;
        _services = ServicesHost.Build("Testing", new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = azurite.ConnectionString,
            ["Storage:TablePrefix"] = "s" + Guid.NewGuid().ToString("N")[..16],
            ["Auth:SigningKeys:0"] = TestApp.NewSigningKeyPem(),
        });
    }

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
}
