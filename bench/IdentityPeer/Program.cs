using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

// ASP.NET Core Identity's bearer endpoints (MapIdentityApi) over EF Core SQLite, set up as the
// template does, as the peer that bench/run measures beside AuthFunctions.
// Settings: PEER_PORT (required; bound on 127.0.0.1), PEER_DATA (folder for the SQLite file and the
// data-protection keys; a new temporary folder when unset). With the same PEER_DATA, a restarted
// instance finds the users and accepts the bearer tokens an earlier instance issued (they are
// data-protection payloads), which is what a cold start to the first authenticated 200 needs.
var builder = WebApplication.CreateBuilder(args);
int port = int.Parse(Environment.GetEnvironmentVariable("PEER_PORT") ?? throw new InvalidOperationException("PEER_PORT must be set."), NumberStyles.None, CultureInfo.InvariantCulture);
string data = Environment.GetEnvironmentVariable("PEER_DATA") is { Length: > 0 } given
    ? Directory.CreateDirectory(given).FullName
    : Directory.CreateTempSubdirectory("identity-peer-").FullName;

builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
// Production logging as AuthFunctions runs in the same benchmark: framework categories at Warning.
builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("System", LogLevel.Warning);
builder.Services.AddDbContext<PeerDb>(options => options.UseSqlite($"Data Source={Path.Combine(data, "identity.db")}"));
builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(data, "keys")));
builder.Services.AddAuthorization();
builder.Services.AddIdentityApiEndpoints<IdentityUser>().AddEntityFrameworkStores<PeerDb>();

var app = builder.Build();
using (var scope = app.Services.CreateScope())
{
    scope.ServiceProvider.GetRequiredService<PeerDb>().Database.EnsureCreated();
}
app.MapGet("/", () => TypedResults.Ok());
app.MapIdentityApi<IdentityUser>();
app.Run();

internal sealed class PeerDb(DbContextOptions<PeerDb> options) : IdentityDbContext<IdentityUser>(options);
