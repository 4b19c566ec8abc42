using Layout = NvmeTcp.Protocol.Spec.DiscoveryLogEntryLayout;

namespace NvmeTcp.Client;

/// <summary>TRTYPE: transport type of a discovery log entry (NVMe over Fabrics 1.1, Figure 39, byte 0).</summary>
public enum NvmeTransportType : byte
{
    /// <summary>RDMA transport.</summary>
    Rdma = Layout.TransportRdma,

    /// <summary>Fibre Channel transport.</summary>
    FibreChannel = Layout.TransportFibreChannel,

    /// <summary>TCP transport.</summary>
    Tcp = Layout.TransportTcp,

    /// <summary>Intra-host transport (loopback), reserved for host use.</summary>
    Loop = Layout.TransportLoop,
}

/// <summary>ADRFAM: address family of a discovery log entry (NVMe over Fabrics 1.1, Figure 39, byte 1).</summary>
public enum NvmeAddressFamily : byte
{
    /// <summary>PCI Express.</summary>
    Pci = Layout.AddressFamilyPci,

    /// <summary>AF_INET: IPv4.</summary>
    IPv4 = Layout.AddressFamilyIPv4,

    /// <summary>AF_INET6: IPv6.</summary>
    IPv6 = Layout.AddressFamilyIPv6,

    /// <summary>AF_IB: InfiniBand.</summary>
    InfiniBand = Layout.AddressFamilyInfiniBand,

    /// <summary>Fibre Channel.</summary>
    FibreChannel = Layout.AddressFamilyFibreChannel,

    /// <summary>Intra-host transport (loopback), reserved for host use.</summary>
    Loop = Layout.AddressFamilyLoop,
}

/// <summary>SUBTYPE: subsystem type of a discovery log entry (NVMe over Fabrics 1.1, Figure 39, byte 2).</summary>
public enum NvmeSubsystemType : byte
{
    /// <summary>A referral to another discovery service.</summary>
    DiscoveryReferral = Layout.SubsystemReferral,

    /// <summary>An NVM subsystem (I/O controllers).</summary>
    Nvm = Layout.SubsystemNvm,

    /// <summary>The discovery subsystem that returned this log (NVMe over Fabrics 1.1a and later).</summary>
    CurrentDiscovery = Layout.SubsystemCurrentDiscovery,
}

/// <summary>TREQ bits 0-1: secure channel requirement of a discovery log entry.</summary>
public enum NvmeSecureChannelRequirement : byte
{
    /// <summary>Not specified.</summary>
    NotSpecified = Layout.SecureChannelNotSpecified,

    /// <summary>A secure channel is required.</summary>
    Required = Layout.SecureChannelRequired,

    /// <summary>A secure channel is not required.</summary>
    NotRequired = Layout.SecureChannelNotRequired,
}

/// <summary>SECTYPE: TSAS byte 0 for the TCP transport (NVMe/TCP 1.0, Figure 7).</summary>
public enum NvmeTcpSecurityType : byte
{
    /// <summary>No security.</summary>
    None = Layout.SecurityNone,

    /// <summary>TLS 1.2 (obsolete).</summary>
    Tls12 = Layout.SecurityTls12,

    /// <summary>TLS 1.3.</summary>
    Tls13 = Layout.SecurityTls13,
}

/// <summary>
/// The words nvme-cli (libnvme's <c>nvmf_*_str</c>) prints for discovery log fields, so a tool can
/// match its <c>nvme discover</c> output. Values nvme-cli does not know print as <c>unrecognized</c>.
/// </summary>
public static class NvmeDiscoveryNames
{
    private const string Unrecognized = "unrecognized";

    /// <summary>TRTYPE as nvme-cli prints it: rdma, fc, tcp, loop.</summary>
    /// <param name="value">The transport type.</param>
    /// <returns>The nvme-cli word.</returns>
    public static string ToNvmeCliString(this NvmeTransportType value) => value switch
    {
        NvmeTransportType.Rdma => "rdma",
        NvmeTransportType.FibreChannel => "fc",
        NvmeTransportType.Tcp => "tcp",
        NvmeTransportType.Loop => "loop",
        _ => Unrecognized,
    };

    /// <summary>ADRFAM as nvme-cli prints it: pci, ipv4, ipv6, infiniband, fibre-channel (libnvme has no word for 254).</summary>
    /// <param name="value">The address family.</param>
    /// <returns>The nvme-cli word.</returns>
    public static string ToNvmeCliString(this NvmeAddressFamily value) => value switch
    {
        NvmeAddressFamily.Pci => "pci",
        NvmeAddressFamily.IPv4 => "ipv4",
        NvmeAddressFamily.IPv6 => "ipv6",
        NvmeAddressFamily.InfiniBand => "infiniband",
        NvmeAddressFamily.FibreChannel => "fibre-channel",
        _ => Unrecognized,
    };

    /// <summary>SUBTYPE as nvme-cli prints it: discovery subsystem referral, nvme subsystem, current discovery subsystem.</summary>
    /// <param name="value">The subsystem type.</param>
    /// <returns>The nvme-cli words.</returns>
    public static string ToNvmeCliString(this NvmeSubsystemType value) => value switch
    {
        NvmeSubsystemType.DiscoveryReferral => "discovery subsystem referral",
        NvmeSubsystemType.Nvm => "nvme subsystem",
        NvmeSubsystemType.CurrentDiscovery => "current discovery subsystem",
        _ => Unrecognized,
    };

    /// <summary>SECTYPE as nvme-cli prints it: none, tls, tls13.</summary>
    /// <param name="value">The TCP security type.</param>
    /// <returns>The nvme-cli word.</returns>
    public static string ToNvmeCliString(this NvmeTcpSecurityType value) => value switch
    {
        NvmeTcpSecurityType.None => "none",
        NvmeTcpSecurityType.Tls12 => "tls",
        NvmeTcpSecurityType.Tls13 => "tls13",
        _ => Unrecognized,
    };

    /// <summary>The whole TREQ byte as nvme-cli prints it, e.g. <c>not specified, sq flow control disable supported</c>.</summary>
    /// <param name="entry">The discovery log entry.</param>
    /// <returns>The nvme-cli words.</returns>
    /// <remarks>Throws <see cref="ArgumentNullException"/> when <paramref name="entry"/> is null.</remarks>
    public static string TreqToNvmeCliString(this NvmeDiscoveryLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        string? channel = entry.SecureChannel switch
        {
            NvmeSecureChannelRequirement.NotSpecified => "not specified",
            NvmeSecureChannelRequirement.Required => "required",
            NvmeSecureChannelRequirement.NotRequired => "not required",
            _ => null,
        };

        // libnvme indexes a table by the whole byte: bits above 2, or channel value 3, are unknown to it.
        if (channel is null || entry.Treq > (Layout.TreqSecureChannelMask | Layout.TreqSqFlowControlDisable))
        {
            return Unrecognized;
        }

        return entry.SqFlowControlDisableSupported ? channel + ", sq flow control disable supported" : channel;
    }
}
