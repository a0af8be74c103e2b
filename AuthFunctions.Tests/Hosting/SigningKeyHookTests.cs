using System.Security.Cryptography;
using System.Text;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Hosting;

/// <summary>
/// scripts/azd-ensure-signing-key, the postprovision hook that creates the first ES256 key, run
/// against a small stand-in for the Azure CLI whose vault keeps its secrets in files.
/// </summary>
public sealed class SigningKeyHookTests : IDisposable
{
    private const string FakeAz = """
        #!/usr/bin/env bash
        # Stand-in for az: a vault whose secrets are files in $FAKE_AZ_STATE/secrets, written through Resource Manager
        # (PUT .../secrets/{name} with the body {"properties":{"value":...}} from a file). Every call is recorded.
        # Resource Manager refuses the write while $FAKE_AZ_STATE/forbidden holds a number above 0.
        state="$FAKE_AZ_STATE"
        printf '%s\n' "$*" >>"$state/calls"
        command="$1 $2 $3"
        query="" url="" body=""
        while [ $# -gt 0 ]; do
          case "$1" in
            --query) query="$2"; shift ;;
            --url) url="$2"; shift ;;
            --body) body="$2"; shift ;;
          esac
          shift
        done
        vault=/subscriptions/sub/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/kv-test
        case "$command" in
          "keyvault show --name") echo "$vault" ;;
          "rest --method get")
            wanted=$(printf '%s' "$query" | sed "s/.*name=='\([^']*\)'.*/\1/")
            if [ -f "$state/secrets/$wanted" ]; then echo "$wanted"; fi ;;
          "rest --method put")
            if [ "$(cat "$state/forbidden")" -gt 0 ]; then
              echo "ERROR: (AuthorizationFailed) The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/secrets/write'." >&2
              exit 1
            fi
            name=${url##*/secrets/}; name=${name%%\?*}
            value=$(sed 's/^{"properties":{"value":"\(.*\)"}}$/\1/' "${body#@}")
            printf '%b' "$value" >"$state/secrets/$name" ;;
          "functionapp show --resource-group") echo "/subscriptions/sub/resourceGroups/rg-test/providers/Microsoft.Web/sites/func-test" ;;
          "rest --method post") ;;
          *) echo "fake az: unexpected $command" >&2; exit 2 ;;
        esac
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "authfunctions-hook-" + Guid.NewGuid().ToString("N"));

    public SigningKeyHookTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "bin"));
        Directory.CreateDirectory(Path.Combine(_root, "state", "secrets"));
        Directory.CreateDirectory(Path.Combine(_root, "tmp"));
        string az = Path.Combine(_root, "bin", "az");
        File.WriteAllText(az, FakeAz.ReplaceLineEndings("\n") + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(az, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Forbidden(0);
        File.WriteAllText(Path.Combine(_root, "state", "calls"), "");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Secret => Path.Combine(_root, "state", "secrets", "auth-signing-key-0");

    private string Calls => File.ReadAllText(Path.Combine(_root, "state", "calls"));

    private void Forbidden(int times) => File.WriteAllText(Path.Combine(_root, "state", "forbidden"), times.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private Task<ScriptRun> RunHookAsync() => ScriptRunner.RunAsync("scripts/azd-ensure-signing-key", new Dictionary<string, string?>
    {
        ["PATH"] = Path.Combine(_root, "bin") + ":" + Environment.GetEnvironmentVariable("PATH"),
        ["FAKE_AZ_STATE"] = Path.Combine(_root, "state"),
        ["TMPDIR"] = Path.Combine(_root, "tmp"),
        ["AZURE_KEY_VAULT_NAME"] = "kv-test",
        ["AZURE_RESOURCE_GROUP"] = "rg-test",
        ["AZURE_FUNCTION_APP_NAME"] = "func-test",
    });

    [Fact]
    public async Task CreatesAnEs256KeyAsPkcs8PemWhenTheVaultHasNoneAndNeverShowsIt()
    {
        var run = await RunHookAsync();

        Assert.True(run.ExitCode == 0, run.Output);
        string pem = File.ReadAllText(Secret);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----\n", pem, StringComparison.Ordinal);
        using var key = ECDsa.Create();
        key.ImportFromPem(pem);
        Assert.Equal("1.2.840.10045.3.1.7", key.ExportParameters(includePrivateParameters: false).Curve.Oid.Value); // P-256
        byte[] data = Encoding.UTF8.GetBytes("header.payload");
        Assert.True(key.VerifyData(data, key.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));

        string body = pem.Split('\n')[1];
        Assert.DoesNotContain(body, run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(body, Calls, StringComparison.Ordinal);
        Assert.DoesNotContain("--value", Calls, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_root, "tmp")));
        // The app's Key Vault references are resolved again, so the new key is used at once.
        Assert.Contains("rest --method post --url /subscriptions/sub/resourceGroups/rg-test/providers/Microsoft.Web/sites/func-test/config/configreferences/appsettings/refresh?api-version=2022-03-01", Calls, StringComparison.Ordinal);
        // Written through Resource Manager, the body from a file; no Key Vault role is granted (the vault's lock would
        // keep any grant forever) and the data plane is never called.
        Assert.Contains("rest --method put --url https://management.azure.com/subscriptions/sub/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/kv-test/secrets/auth-signing-key-0?api-version=2023-07-01 --body @", Calls, StringComparison.Ordinal);
        Assert.DoesNotContain("role assignment", Calls, StringComparison.Ordinal);
        Assert.DoesNotContain("keyvault secret", Calls, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LeavesAnExistingKeyAsItIs()
    {
        File.WriteAllText(Secret, "the key in use");

        var run = await RunHookAsync();

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("the key in use", File.ReadAllText(Secret));
        Assert.DoesNotContain("secret set", Calls, StringComparison.Ordinal);
        Assert.Contains("already exists", run.Output, StringComparison.Ordinal);
        // Nothing to write, so no role is granted at all.
        Assert.DoesNotContain("role assignment", Calls, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailsWithAzsErrorWhenResourceManagerRefusesTheWrite()
    {
        Forbidden(1);

        var run = await RunHookAsync();

        Assert.NotEqual(0, run.ExitCode);
        Assert.False(File.Exists(Secret));
        Assert.Contains("(AuthorizationFailed)", run.Output, StringComparison.Ordinal);
        Assert.Contains("could not store auth-signing-key-0", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("role assignment", Calls, StringComparison.Ordinal);
        // The key and its request body are deleted even when the hook fails.
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_root, "tmp")));
    }
}
