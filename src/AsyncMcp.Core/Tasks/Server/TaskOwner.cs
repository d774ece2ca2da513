using System.Security.Claims;
using AsyncMcp.Server;
using ModelContextProtocol.Protocol;

namespace AsyncMcp.Tasks;

/// <summary>
/// Who a task belongs to: the identity a request carries, compared on every <c>tasks/*</c> request so that a task is
/// visible only to the client that created it.
/// </summary>
/// <remarks>
/// In order: an authenticated principal (<c>user:</c> and its name identifier or name); else the client id of an
/// AsyncMcp queue transport (<c>client:</c> and the configured id, without the per-connection suffix the AsyncMcp client
/// adds, so a reconnected client or a new process configured with the same id sees its tasks); else none, and the
/// unguessable task id is the bearer token. A queue client id is asserted by the client, not verified: on a queue anyone
/// who may send to it may claim any id, so there the task id's 128 random bits are the real protection.
/// </remarks>
internal static class TaskOwner
{
    private const int ConnectionSuffixLength = 8;

    public static string? Of(JsonRpcMessage message)
    {
        var context = message.Context;
        if (context?.User is { Identity.IsAuthenticated: true } user
            && (user.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? user.Identity?.Name) is { Length: > 0 } name)
        {
            return "user:" + name;
        }

        return context?.RelatedTransport is RequestTransport { ClientId: { Length: > 0 } clientId }
            ? "client:" + WithoutConnectionSuffix(clientId)
            : null;
    }

    /// <summary>The configured id of an AsyncMcp client: its connections send <c>id.xxxxxxxx</c> (eight hex digits).</summary>
    private static string WithoutConnectionSuffix(string clientId)
    {
        var dot = clientId.Length - ConnectionSuffixLength - 1;
        return dot > 0 && clientId[dot] == '.' && clientId.AsSpan(dot + 1).ContainsOnlyHexDigits() ? clientId[..dot] : clientId;
    }

    private static bool ContainsOnlyHexDigits(this ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
