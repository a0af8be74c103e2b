using System.Text.Json.Serialization;

namespace AuthFunctions.Storage;

[JsonSerializable(typeof(string))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
