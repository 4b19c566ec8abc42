using System.Net;
using System.Net.Sockets;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Target.Internal;

/// <summary>
/// A listening port: its bound endpoint, its listener and accept loop, and the ANA states seen through it. Removing
/// the port (<see cref="NvmeTcpTarget.RemovePort"/>) ends this object; the ANA states outlive it, as nvmet keeps a
/// port's <c>ana_state</c> while subsystems are unlinked and linked again.
/// </summary>
internal sealed class TargetPort
{
    public TargetPort(ushort portId, Socket listener, PortAnaStates anaStates)
    {
        PortId = portId;
        Listener = listener;
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        Ana = anaStates;
    }

    public ushort PortId { get; }

    /// <summary>The bound endpoint.</summary>
    public IPEndPoint EndPoint { get; }

    public Socket Listener { get; }

    public PortAnaStates Ana { get; }

    public NvmeTargetTls Tls { get; init; }

    public CancellationTokenSource Stopping { get; } = new();

    public Task AcceptLoop { get; set; } = Task.CompletedTask;

    public NvmeTargetPort ToPublic() => new(PortId, EndPoint) { Tls = Tls };
}

/// <summary>
/// The ANA state of every group as seen through one port (nvmet's <c>port-&gt;ana_state[]</c>), and each group's
/// change count (CHGCNT of its ANA log descriptor). Read on every I/O command without a lock: a state is one byte.
/// </summary>
internal sealed class PortAnaStates
{
    private readonly byte[] _states;
    private readonly ulong[] _changeCounts;

    public PortAnaStates(uint groupMax)
    {
        _states = new byte[groupMax + 1];
        _changeCounts = new ulong[groupMax + 1];
        Array.Fill(_states, (byte)AnaState.Optimized);
    }

    public AnaState this[uint groupId] => (AnaState)Volatile.Read(ref _states[groupId]);

    public ulong ChangeCount(uint groupId)
    {
        lock (_changeCounts)
        {
            return _changeCounts[groupId];
        }
    }

    /// <summary>Sets a group's state and counts the change, as a write to configfs <c>ana_state</c> does even for the same state.</summary>
    public void Set(uint groupId, AnaState state)
    {
        lock (_changeCounts)
        {
            Volatile.Write(ref _states[groupId], (byte)state);
            _changeCounts[groupId]++;
        }
    }
}
