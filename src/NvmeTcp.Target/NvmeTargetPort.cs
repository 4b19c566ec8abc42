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

    /// <inheritdoc/>
    public override string ToString() => $"port {PortId} {EndPoint}";
}
