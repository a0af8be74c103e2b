namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// One product instance (host + worker, own tables) per test class: started by the class's first test with the class's
/// <see cref="AppTestBase.Settings"/>, shared by its tests (which run one after another and use their own users), ended
/// after the last. A host takes seconds to start; one per test would not fit CI's time.
/// </summary>
public sealed class AppFixture : IAsyncLifetime
{
    private readonly Lock _lock = new();
    private Task<TestApp>? _app;

    public Task<TestApp> GetAsync(IDictionary<string, string?>? settings)
    {
        lock (_lock)
        {
            return _app ??= TestApp.StartAsync(settings);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_app is { IsCompletedSuccessfully: true })
        {
            await (await _app).DisposeAsync();
        }
    }
}

/// <summary>The class's product instance (see <see cref="AppFixture"/>).</summary>
public abstract class AppTestBase(AppFixture fixture) : IAsyncLifetime, IClassFixture<AppFixture>
{
    private TestApp? _app;

    protected TestApp App => _app ?? throw new InvalidOperationException("The app has not started.");

    protected virtual IDictionary<string, string?>? Settings => null;

    public async Task InitializeAsync() => _app = await fixture.GetAsync(Settings);

    public Task DisposeAsync() => Task.CompletedTask;
}
