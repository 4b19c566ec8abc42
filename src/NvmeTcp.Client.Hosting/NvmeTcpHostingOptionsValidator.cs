using Microsoft.Extensions.Options;

namespace NvmeTcp.Client.Hosting;

/// <summary>Checks every named controller at start-up (<c>ValidateOnStart</c>): required values, ranges, and the library's own checks.</summary>
internal sealed class NvmeTcpHostingOptionsValidator : IValidateOptions<NvmeTcpHostingOptions>
{
    public ValidateOptionsResult Validate(string? name, NvmeTcpHostingOptions options)
    {
        var failures = new List<string>();
        if (options.Controllers.Count == 0)
        {
            failures.Add("NvmeTcp: no controllers configured (NvmeTcp:Controllers:<name>:Address, ...).");
        }

        foreach (var (controller, settings) in options.Controllers)
        {
            var prefix = $"NvmeTcp:Controllers:{controller}";
            var before = failures.Count;
            if (string.IsNullOrWhiteSpace(settings.Address))
            {
                failures.Add($"{prefix}:Address is required.");
            }

            if (string.IsNullOrWhiteSpace(settings.SubsystemNqn))
            {
                failures.Add($"{prefix}:SubsystemNqn is required.");
            }

            if (settings.Port is < 1 or > 65535)
            {
                failures.Add($"{prefix}:Port must be 1 to 65535, not {settings.Port}.");
            }

            if (failures.Count > before)
            {
                continue;
            }

            try
            {
                settings.ToOptions().Validate();
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                // The library's message names the option and the rule; it never carries a secret.
                failures.Add($"{prefix}: {e.Message}");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
