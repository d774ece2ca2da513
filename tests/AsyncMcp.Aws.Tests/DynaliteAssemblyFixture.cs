[assembly: AssemblyFixture(typeof(AsyncMcp.Testing.DynaliteFixture))]
