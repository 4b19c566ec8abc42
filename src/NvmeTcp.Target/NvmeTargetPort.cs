using System.Net;

namespace NvmeTcp.Target;

/// <summary>
/// One port of an <see cref="NvmeTcpTarget"/>, as nvmet's <c>ports/N</c>: a listen endpoint with its NVMe-oF port
/// identifier (PORTID in the discovery log). Each subsystem is served on every port; ANA states are kept per port
/// and ANA group (<see cref="NvmeTcpTarget.SetAnaState"/>).
/// </summary>
public sealed class NvmeTargetPort
{
    /// <summary>Creates a port.</summary>
    /// <param name="portId">PORTID: the port's identifier, unique in the target.</param>
    /// <param name="endPoint">Where to listen; port 0 picks a free port (read back from <see cref="NvmeTcpTarget.Ports"/>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="endPoint"/> is null.</exception>
    public NvmeTargetPort(ushort portId, IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        PortId = portId;
        EndPoint = endPoint;
    }

    /// <summary>PORTID, the port's identifier.</summary>
    public ushort PortId { get; }

    /// <summary>The endpoint: as configured in options, as bound in <see cref="NvmeTcpTarget.Ports"/>.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>
    /// TLS on this port, as nvmet's <c>addr_tsas</c> and <c>addr_treq</c>: none (the default), optional or required.
    /// The discovery log reports it (TREQ, TSAS SECTYPE). Keys come from <see cref="NvmeSubsystemOptions.TlsKeys"/>.
    /// </summary>
    public NvmeTargetTls Tls { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Tls == NvmeTargetTls.None ? $"port {PortId} {EndPoint}" : $"port {PortId} {EndPoint} (TLS {Tls})";
}

/// <summary>
/// TLS 1.3 with a PSK on a port (NVMe/TCP "Transport Layer Security"). It is a property of the port, as in nvmet,
/// because the handshake comes before ICReq and the Connect that names the subsystem: a target cannot know which
/// subsystem a host wants before it has decided whether to speak TLS.
/// </summary>
public enum NvmeTargetTls
{
    /// <summary>Plain TCP only (nvmet <c>addr_tsas</c> none); a ClientHello is a bad PDU (C2HTermReq).</summary>
    None,

    /// <summary>
    /// TLS or plain (nvmet <c>addr_treq</c> "not required"): the first byte tells a ClientHello (22, a TLS handshake
    /// record) from an ICReq (0), as nvmet peeks it. TREQ "not required", TSAS SECTYPE TLS 1.3.
    /// </summary>
    Optional,

    /// <summary>TLS only (nvmet's default with <c>addr_tsas</c> tls1.3): a plain ICReq is not answered and the connection closed. TREQ "required".</summary>
    Required,
}
