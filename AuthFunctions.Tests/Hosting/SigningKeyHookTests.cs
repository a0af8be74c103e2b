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
        # Stand-in for az: a vault whose secrets are files in $FAKE_AZ_STATE/secrets, and role assignments on it
        # (lines in $FAKE_AZ_STATE/assignments). Writing a secret needs an assignment, as Key Vault's RBAC does.
        state="$FAKE_AZ_STATE"
        printf '%s\n' "$*" >>"$state/calls"
        command="$1 $2 $3"
        name="" file="" query="" ids=""
        while [ $# -gt 0 ]; do
          case "$1" in
            --name) name="$2"; shift ;;
            --file) file="$2"; shift ;;
            --query) query="$2"; shift ;;
            --ids) ids="$2"; shift ;;
          esac
          shift
        done
        vault=/subscriptions/sub/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/kv-test
        case "$command" in
          "keyvault show --name") echo "$vault" ;;
          "rest --method get")
            wanted=$(printf '%s' "$query" | sed "s/.*name=='\([^']*\)'.*/\1/")
            if [ -f "$state/secrets/$wanted" ]; then echo "$wanted"; fi ;;
          "role assignment list") cat "$state/assignments" ;;
          "role assignment create")
            id="$vault/providers/Microsoft.Authorization/roleAssignments/$RANDOM$RANDOM"
            echo "$id" >>"$state/assignments"; echo "$id" ;;
          "role assignment delete") grep -vxF "$ids" "$state/assignments" >"$state/kept" || true; mv "$state/kept" "$state/assignments" ;;
          "keyvault secret set")
            if [ ! -s "$state/assignments" ] || [ "$(cat "$state/forbidden")" -gt 0 ]; then
              [ -s "$state/assignments" ] && echo $(($(cat "$state/forbidden") - 1)) >"$state/forbidden"
              echo "ERROR: (Forbidden) Caller is not authorized to perform action on resource." >&2
              exit 1
            fi
            cp "$file" "$state/secrets/$name" ;;
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
        File.WriteAllText(Assignments, "");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Secret => Path.Combine(_root, "state", "secrets", "auth-signing-key-0");

    private string Calls => File.ReadAllText(Path.Combine(_root, "state", "calls"));

    private string Assignments => Path.Combine(_root, "state", "assignments");

    private void Forbidden(int times) => File.WriteAllText(Path.Combine(_root, "state", "forbidden"), times.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private Task<ScriptRun> RunHookAsync(int attempts = 30) => ScriptRunner.RunAsync("scripts/azd-ensure-signing-key", new Dictionary<string, string?>
    {
        ["PATH"] = Path.Combine(_root, "bin") + ":" + Environment.GetEnvironmentVariable("PATH"),
        ["FAKE_AZ_STATE"] = Path.Combine(_root, "state"),
        ["TMPDIR"] = Path.Combine(_root, "tmp"),
        ["AZURE_KEY_VAULT_NAME"] = "kv-test",
        ["AZURE_RESOURCE_GROUP"] = "rg-test",
        ["AZURE_FUNCTION_APP_NAME"] = "func-test",
        ["AZURE_PRINCIPAL_ID"] = "00000000-0000-0000-0000-00000000beef",
        ["SIGNING_KEY_HOOK_ATTEMPTS"] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["SIGNING_KEY_HOOK_RETRY_SECONDS"] = "0",
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
        // Secrets Officer only while the hook ran: granted to the signed-in principal, with its type, and removed again.
        Assert.Contains("role assignment create --assignee-object-id 00000000-0000-0000-0000-00000000beef --assignee-principal-type User --role Key Vault Secrets Officer --scope /subscriptions/sub/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/kv-test", Calls, StringComparison.Ordinal);
        Assert.Contains("role assignment delete --ids ", Calls, StringComparison.Ordinal);
        Assert.Equal("", File.ReadAllText(Assignments));
    }

    [Fact]
    public async Task ARoleThePrincipalAlreadyHoldsIsLeftInPlace()
    {
        const string standing = "/subscriptions/sub/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/kv-test/providers/Microsoft.Authorization/roleAssignments/group";
        File.WriteAllText(Assignments, standing + "\n");

        var run = await RunHookAsync();

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.True(File.Exists(Secret));
        Assert.DoesNotContain("role assignment create", Calls, StringComparison.Ordinal);
        Assert.DoesNotContain("role assignment delete", Calls, StringComparison.Ordinal);
        Assert.Equal(standing + "\n", File.ReadAllText(Assignments));
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
    public async Task WaitsWhileTheNewRoleAssignmentIsNotInEffectYet()
    {
        Forbidden(3);

        var run = await RunHookAsync();

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.True(File.Exists(Secret));
        Assert.Contains("retrying", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailsWithAzsErrorWhenTheVaultStaysForbidden()
    {
        Forbidden(100);

        var run = await RunHookAsync(attempts: 3);

        Assert.NotEqual(0, run.ExitCode);
        Assert.False(File.Exists(Secret));
        Assert.Contains("(Forbidden)", run.Output, StringComparison.Ordinal);
        Assert.Equal(3, Calls.Split('\n').Count(c => c.StartsWith("keyvault secret set", StringComparison.Ordinal)));
        // The temporary role goes even when the hook fails.
        Assert.Equal("", File.ReadAllText(Assignments));
    }
}
