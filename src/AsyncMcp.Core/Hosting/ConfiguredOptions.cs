using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AsyncMcp.Hosting;

/// <summary>
/// Binds transport options from configuration the way a user reads the keys: a list given in configuration
/// (<c>SupportedProtocolVersions</c>, <c>AddressPolicy:AllowedSchemes</c>, …) replaces the option's default list. The
/// configuration binder on its own adds the configured items to the defaults, so that <c>AllowedSchemes: ["https"]</c>
/// would still allow <c>http</c>.
/// </summary>
internal static class ConfiguredOptions
{
    private const int MaxDepth = 4;

    /// <summary>Binds <paramref name="configuration"/>, then replaces every string list it names.</summary>
    public static OptionsBuilder<TOptions> BindReplacingLists<TOptions>(this OptionsBuilder<TOptions> builder, IConfiguration configuration)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        return builder.Bind(configuration).Configure(options => ReplaceLists(options, configuration, 0));
    }

    /// <summary>Sets each <see cref="IList{T}"/> of strings that <paramref name="configuration"/> gives to exactly the configured items, in nested option objects too.</summary>
    internal static void ReplaceLists(object options, IConfiguration configuration, int depth)
    {
        foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!property.CanRead || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var section = configuration.GetSection(property.Name);
            var items = section.GetChildren().ToList();
            if (items.Count == 0)
            {
                continue;
            }

            if (property.PropertyType == typeof(IList<string>) && property.CanWrite)
            {
                // Children of a list section are "0", "1", …, which the configuration orders by number.
                property.SetValue(options, items.Where(item => item.Value is not null).Select(item => item.Value!).ToList());
            }
            else if (depth < MaxDepth &&
                     property.PropertyType.IsClass &&
                     property.PropertyType.Namespace?.StartsWith("AsyncMcp", StringComparison.Ordinal) == true &&
                     property.GetValue(options) is { } nested)
            {
                ReplaceLists(nested, section, depth + 1);
            }
        }
    }
}
