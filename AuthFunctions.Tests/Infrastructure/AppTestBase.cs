namespace AuthFunctions.Tests.Infrastructure;

/// <summary>Starts a fresh app (own tables, own clock, own logs) for each test class instance.</summary>
public abstract class AppTestBase : IAsyncLifetime
{
    private TestApp? _app;

    protected TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");

    protected virtual IDictionary<string, string?>? Settings => null;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(Settings);

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
