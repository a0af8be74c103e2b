using System.Text.Json.Serialization;
using AuthFunctions.Storage;

namespace AuthFunctions.Tests.Infrastructure;

public sealed record AnyRow(string PartitionKey, string RowKey) : ITableEntity;

[JsonSerializable(typeof(AnyRow))]
internal sealed partial class AnyRowJson : JsonSerializerContext;
