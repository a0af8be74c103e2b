using AuthFunctions.Backup;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;

// Usage (scripts/restore-backup passes its arguments here):
//   restore-backup [--account NAME] [--container NAME] --list
//   restore-backup [--account NAME] [--container NAME] --export NAME|latest --prefix PREFIX
// The account is reached with Entra ID as the signed-in user (az login), or with the connection string in
// AZURE_STORAGE_CONNECTION_STRING when that is set (Azurite).
var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
bool list = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--list":
            list = true;
            break;
        case "--account" or "--container" or "--export" or "--prefix" when i + 1 < args.Length:
            arguments[args[i][2..]] = args[++i];
            break;
        default:
            return Usage($"unknown or incomplete argument {args[i]}");
    }
}
if (!list && (!arguments.ContainsKey("export") || !arguments.ContainsKey("prefix")))
{
    return Usage("give --list, or --export and --prefix");
}

string? connectionString = Environment.GetEnvironmentVariable("AZURE_STORAGE_CONNECTION_STRING");
string? account = arguments.GetValueOrDefault("account") ?? Environment.GetEnvironmentVariable("AZURE_STORAGE_ACCOUNT");
if (string.IsNullOrEmpty(connectionString) && string.IsNullOrEmpty(account))
{
    return Usage("give --account (or set AZURE_STORAGE_ACCOUNT, or AZURE_STORAGE_CONNECTION_STRING)");
}
TableServiceClient tables;
BlobServiceClient blobs;
if (!string.IsNullOrEmpty(connectionString))
{
    tables = new TableServiceClient(connectionString);
    blobs = new BlobServiceClient(connectionString);
}
else
{
    var credential = new DefaultAzureCredential();
    tables = new TableServiceClient(new Uri($"https://{account}.table.core.windows.net"), credential);
    blobs = new BlobServiceClient(new Uri($"https://{account}.blob.core.windows.net"), credential);
}
var container = blobs.GetBlobContainerClient(arguments.GetValueOrDefault("container") ?? BackupOptions.DefaultContainer);
var backup = new TableBackup(tables, container);

try
{
    var exports = new List<string>();
    if (list || arguments["export"] == "latest")
    {
        await foreach (string name in backup.ListExportsAsync())
        {
            exports.Add(name);
        }
    }
    if (list)
    {
        exports.ForEach(Console.WriteLine);
        Console.Error.WriteLine($"restore-backup: {exports.Count} complete exports in {container.Name}, oldest first");
        return 0;
    }
    string export = arguments["export"] == "latest"
        ? exports.LastOrDefault() ?? throw new BackupException($"No complete export in {container.Name}.")
        : arguments["export"];
    string prefix = arguments["prefix"];
    var report = await backup.RestoreAsync(export, prefix);
    var manifest = report.Manifest;
    foreach (var (table, rows) in report.Restored)
    {
        string leftOut = report.LeftOut[table] == 0 ? ""
            : table == "passkeychallenges" ? $" ({report.LeftOut[table]} passkey challenges left out: none may work twice)"
            : table == "oidcflows" ? $" ({report.LeftOut[table]} one-time sign-in rows left out: everyone logs in again)"
            : $" ({report.LeftOut[table]} session and link rows left out: everyone logs in again)";
        Console.WriteLine($"restored {rows} rows of {table} into {prefix}{table}{leftOut}");
    }
    Console.Error.WriteLine($"""
        restore-backup: export {manifest.Name} (taken {manifest.StartedAt:u} from prefix '{manifest.SourcePrefix}') restored under prefix '{prefix}'.
        Compare it with the live tables; to switch the app to it: azd env set STORAGE_TABLE_PREFIX {prefix} && azd provision
        """);
    return 0;
}
catch (BackupException refused)
{
    Console.Error.WriteLine($"restore-backup: {refused.Message}");
    return 1;
}
catch (Azure.RequestFailedException failed)
{
    // Status and code only: the SDK's message names request URLs.
    Console.Error.WriteLine($"restore-backup: storage refused the request: {failed.Status} {failed.ErrorCode} (you need Storage Blob Data Reader and Storage Table Data Contributor on the account; README, Backup and restore)");
    return 1;
}
catch (CredentialUnavailableException)
{
    Console.Error.WriteLine("restore-backup: no Azure credential: run `az login` first");
    return 1;
}

static int Usage(string problem)
{
    Console.Error.WriteLine($"""
        restore-backup: {problem}
        usage: scripts/restore-backup [--account NAME] [--container NAME] --list
               scripts/restore-backup [--account NAME] [--container NAME] --export NAME|latest --prefix PREFIX
        """);
    return 2;
}
