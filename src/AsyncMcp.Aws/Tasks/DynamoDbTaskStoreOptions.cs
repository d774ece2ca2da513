using System.Text.RegularExpressions;

namespace AsyncMcp.Aws.Tasks;

/// <summary>Settings of <see cref="DynamoDbTaskStore"/>.</summary>
public sealed partial class DynamoDbTaskStoreOptions
{
    /// <summary>The DynamoDB table that holds the tasks (partition key <c>taskId</c>, TTL on <c>expiresAt</c>; see <see cref="DynamoDbTaskTableProvisioner"/>). Required.</summary>
    public string? TableName { get; set; }

    /// <summary>
    /// Whether reads are strongly consistent. Default <see langword="true"/>: the Tasks extension requires that a
    /// <c>tasks/get</c> right after the task was created finds it, on any worker.
    /// </summary>
    public bool ConsistentReads { get; set; } = true;

    /// <summary>How often a read-modify-write (progress, cancel request, input requests and answers) is tried when other writers keep changing the task, 1 to 100. Default 10.</summary>
    public int MaxWriteAttempts { get; set; } = 10;

    /// <summary>Checks the settings, throwing an exception that names the first bad option.</summary>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public void Validate()
    {
        const string Name = nameof(DynamoDbTaskStoreOptions);
        if (string.IsNullOrWhiteSpace(TableName))
        {
            throw new ArgumentException($"{Name}.{nameof(TableName)} is required: the DynamoDB table that holds the tasks.");
        }

        if (!TableNamePattern().IsMatch(TableName))
        {
            throw new ArgumentException(
                $"{Name}.{nameof(TableName)} '{TableName}' is not a DynamoDB table name: 3 to 255 characters, letters, digits, '_', '-' and '.' only.");
        }

        if (MaxWriteAttempts is < 1 or > 100)
        {
            throw new ArgumentException($"{Name}.{nameof(MaxWriteAttempts)} must be from 1 to 100 (was {MaxWriteAttempts}).");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{3,255}$")]
    private static partial Regex TableNamePattern();
}
