using System.Globalization;
using System.Net;
using NvmeTcp.Client;

namespace NvmeTcp.Cli.Output;

/// <summary>
/// The names nvme-cli takes from the kernel (nvme0, nvme-subsys0) for a controller no kernel knows: numbered by the
/// controller ID the target assigned (CNTLID), once per run. list-subsys shows them and fw-log keys its JSON by the
/// controller's, as nvme-cli keys it by the device name.
/// </summary>
internal static class ControllerNames
{
    public static string Controller(NvmeController controller) => string.Create(CultureInfo.InvariantCulture, $"nvmetcp{controller.ControllerId}");

    public static string Subsystem(NvmeController controller) => string.Create(CultureInfo.InvariantCulture, $"nvmetcp-subsys{controller.ControllerId}");

    /// <summary>The kernel's address attribute as nvme-cli prints it: traddr=A,trsvcid=P.</summary>
    public static string Address(NvmeController controller) => controller.RemoteEndPoint switch
    {
        IPEndPoint ip => string.Create(CultureInfo.InvariantCulture, $"traddr={ip.Address},trsvcid={ip.Port}"),
        DnsEndPoint dns => string.Create(CultureInfo.InvariantCulture, $"traddr={dns.Host},trsvcid={dns.Port}"),
        var other => $"traddr={other}",
    };
}
