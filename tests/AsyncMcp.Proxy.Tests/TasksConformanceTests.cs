namespace AsyncMcp.Proxy.Tests;

/// <summary>
/// The Tasks extension scenarios (<c>tasks-*</c>) of the conformance suite 0.2.0-alpha.12, each run on its own, against
/// the conformance fixture server with <c>AddTasks</c>: on the SDK's own Streamable HTTP endpoint, on AsyncMcp's hybrid
/// endpoint, and through <c>asyncmcp proxy --listen</c> with the fixture behind SQS. Every check must pass, except the
/// ones listed in <see cref="KnownNotPassing"/> with their exact status and the reason.
/// </summary>
public sealed class TasksConformanceTests(BridgeEmulator emulator)
{
    public static readonly string[] Scenarios =
    [
        "tasks-lifecycle",
        "tasks-capability-negotiation",
        "tasks-wire-fields",
        "tasks-request-state-removal",
        "tasks-mrtr-input",
        "tasks-request-headers",
        "tasks-dispatch-and-envelope",
        "tasks-status-notifications",
        "tasks-required-task-error",
        "tasks-mrtr-composition",
    ];

    /// <summary>Checks that do not pass, everywhere, as <c>scenario/check-id/Name STATUS</c>, and why.</summary>
    private static readonly Dictionary<string, string> KnownNotPassing = new(StringComparer.Ordinal)
    {
        ["tasks-status-notifications/tasks-status-notifications/TasksStatusNotificationsScenario SKIPPED"] =
            "the suite skips it itself (its notifications/tasks harness awaits a rewrite for subscriptions/listen)",
    };

    [Theory]
    [InlineData(TasksFixtureFront.Sdk)]
    [InlineData(TasksFixtureFront.Hybrid)]
    [InlineData(TasksFixtureFront.ProxySqs)]
    public async Task Every_tasks_scenario_passes(string front)
    {
        await using var server = await TasksFixtureFront.StartAsync(front, emulator);
        var checks = await ConformanceSuite.Next.RunScenariosAsync(server.Url, Scenarios);

        var notPassing = checks
            .Where(c => !c.EndsWith(" SUCCESS", StringComparison.Ordinal))
            .Select(c => c.Split(" -- ")[0])
            .ToList();
        var table = string.Join("\n  ", Scenarios.Select(s =>
        {
            var own = checks.Where(c => c.StartsWith(s + "/", StringComparison.Ordinal)).ToList();
            return $"{s}: {own.Count(c => c.EndsWith(" SUCCESS", StringComparison.Ordinal))}/{own.Count} passed";
        }));
        Assert.True(
            Scenarios.All(s => checks.Any(c => c.StartsWith(s + "/", StringComparison.Ordinal))) && notPassing.Order(StringComparer.Ordinal).SequenceEqual(KnownNotPassing.Keys.Order(StringComparer.Ordinal)),
            $"Tasks scenarios ({front}):\n  {table}\nNot passing:\n  {string.Join("\n  ", checks.Where(c => !c.EndsWith(" SUCCESS", StringComparison.Ordinal)))}\nKnown not passing:\n  {string.Join("\n  ", KnownNotPassing.Keys)}\nAll checks:\n  {string.Join("\n  ", checks)}");
    }
}
