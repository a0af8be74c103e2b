using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AuthFunctions.Storage;

/// <summary>
/// Signs each attempt (it runs per retry so <c>x-ms-date</c> stays fresh) with the Table service's
/// SharedKeyLite scheme: HMAC-SHA256 over <c>x-ms-date + "\n" + "/" + account + path[?comp=…]</c>.
/// https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key#shared-key-lite-and-table-service-format-for-2009-09-19-and-later
/// </summary>
internal sealed class SharedKeyLitePolicy(string accountName, byte[] accountKey, TimeProvider clock) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        string date = clock.GetUtcNow().ToString("R", CultureInfo.InvariantCulture);
        message.Request.Headers.SetValue("x-ms-date", date);

        // Sign the path exactly as it goes on the wire (still percent-encoded).
        var uri = message.Request.Uri.ToUri();
        var stringToSign = new StringBuilder(date.Length + accountName.Length + uri.AbsolutePath.Length + 8)
            .Append(date).Append('\n').Append('/').Append(accountName).Append(uri.AbsolutePath);
        string? comp = CompParameter(uri.Query);
        if (comp is not null)
        {
            stringToSign.Append("?comp=").Append(comp);
        }

        byte[] signature = HMACSHA256.HashData(accountKey, Encoding.UTF8.GetBytes(stringToSign.ToString()));
        message.Request.Headers.SetValue("Authorization", $"SharedKeyLite {accountName}:{Convert.ToBase64String(signature)}");
    }

    private static string? CompParameter(string query)
    {
        foreach (var pair in query.TrimStart('?').Split('&'))
        {
            if (pair.StartsWith("comp=", StringComparison.Ordinal))
            {
                return pair["comp=".Length..];
            }
        }
        return null;
    }
}
