using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace NvmeTcp.Client.Hosting;

/// <summary><c>AddNvmeTcp</c>: named NVMe/TCP controllers in a Microsoft.Extensions host.</summary>
public static class NvmeTcpServiceCollectionExtensions
{
    /// <summary>The tag of every controller's health check.</summary>
    public const string HealthCheckTag = "nvmetcp";

    /// <summary>
    /// Binds the named controllers from <paramref name="configuration"/> (the <c>NvmeTcp</c> section:
    /// <c>Controllers:&lt;name&gt;:Address</c>, <c>SubsystemNqn</c>, ...), validates them when the host starts, connects
    /// them in a hosted service with the app's <c>ILoggerFactory</c>, registers <see cref="NvmeControllers"/> and one
    /// health check per controller named <c>nvmetcp:&lt;name&gt;</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The <c>NvmeTcp</c> section.</param>
    /// <param name="configure">Changes after binding, if any.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddNvmeTcp(this IServiceCollection services, IConfiguration configuration, Action<NvmeTcpHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return AddNvmeTcpCore(services, builder =>
        {
            builder.Bind(configuration);
            if (configure is not null)
            {
                builder.Configure(configure);
            }
        });
    }

    /// <summary>As <see cref="AddNvmeTcp(IServiceCollection, IConfiguration, Action{NvmeTcpHostingOptions}?)"/>, with the controllers given in code.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adds the controllers.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddNvmeTcp(this IServiceCollection services, Action<NvmeTcpHostingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddNvmeTcpCore(services, builder => builder.Configure(configure));
    }

    private static IServiceCollection AddNvmeTcpCore(IServiceCollection services, Action<OptionsBuilder<NvmeTcpHostingOptions>> bind)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<NvmeTcpHostingOptions>();
        bind(builder);
        builder.ValidateOnStart();
        services.AddSingleton<IValidateOptions<NvmeTcpHostingOptions>, NvmeTcpHostingOptionsValidator>();
        services.AddSingleton(sp => new NvmeControllers(sp.GetRequiredService<IOptions<NvmeTcpHostingOptions>>().Value.Controllers.Keys));
        services.AddHostedService<NvmeTcpHostedService>();

        // One check per configured name: the names are known once the options are, so the registrations are added then.
        services.AddHealthChecks();
        services.AddOptions<HealthCheckServiceOptions>().Configure<IOptions<NvmeTcpHostingOptions>>((health, nvme) =>
        {
            foreach (var name in nvme.Value.Controllers.Keys)
            {
                health.Registrations.Add(new HealthCheckRegistration(
                    $"nvmetcp:{name}",
                    sp => new NvmeControllerHealthCheck(sp.GetRequiredService<NvmeControllers>(), name),
                    HealthStatus.Unhealthy,
                    [HealthCheckTag]));
            }
        });
        return services;
    }
}
