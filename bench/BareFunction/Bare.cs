using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace BareFunction;

public static class Bare
{
    /// <summary><c>GET /api/bare</c>: 200 with the JSON string "ok".</summary>
    [Function("bare")]
    public static IResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "bare")] HttpRequest request) => TypedResults.Ok("ok");
}
