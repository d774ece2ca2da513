using System.Security.Cryptography;

namespace AsyncMcp.Tasks;

/// <summary>Task ids: 128 random bits from a cryptographic generator, as 32 lowercase hex digits.</summary>
/// <remarks>
/// Task ids may serve as bearer tokens, so they must not be guessable or enumerable. Hex is safe in HTTP headers
/// (<c>Mcp-Name</c>), queue attributes and DynamoDB keys without escaping.
/// </remarks>
public static class TaskIds
{
    /// <summary>The length of an id made by <see cref="NewId"/>.</summary>
    public const int Length = 32;

    /// <summary>The longest task id a store accepts (ids come from clients in <c>tasks/*</c> requests).</summary>
    public const int MaxLength = 256;

    /// <summary>Makes a new task id.</summary>
    /// <returns>32 lowercase hex digits.</returns>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Whether a client-supplied id can name a task at all (non-empty, at most <see cref="MaxLength"/> characters); stores answer others as unknown.</summary>
    /// <param name="taskId">The id.</param>
    /// <returns><see langword="true"/> when a store may look it up.</returns>
    public static bool IsPlausible(string? taskId) => !string.IsNullOrEmpty(taskId) && taskId.Length <= MaxLength;
}
