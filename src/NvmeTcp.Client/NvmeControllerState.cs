using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client;

/// <summary>Where a controller's association is, as Linux's <c>nvme_ctrl_state</c> names it.</summary>
public enum NvmeControllerState
{
    /// <summary>Bring-up in progress: the first connect, or a reconnect attempt after a failure.</summary>
    Connecting,

    /// <summary>Every queue is up; commands go out.</summary>
    Live,

    /// <summary>The association failed: its queues are being torn down before a reconnect. New commands wait.</summary>
    Resetting,

    /// <summary>Going away for good (disposed, controller loss timeout, or a failure that reconnecting cannot fix).</summary>
    Deleting,

    /// <summary>Gone: every command fails.</summary>
    Deleted,
}

/// <summary>A controller changed state.</summary>
public sealed class NvmeControllerStateChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public NvmeControllerStateChangedEventArgs(NvmeControllerState previous, NvmeControllerState current, Exception? reason)
    {
        Previous = previous;
        Current = current;
        Reason = reason;
    }

    /// <summary>The state before.</summary>
    public NvmeControllerState Previous { get; }

    /// <summary>The state now.</summary>
    public NvmeControllerState Current { get; }

    /// <summary>The failure that caused the change, if one did.</summary>
    public Exception? Reason { get; }
}

/// <summary>An asynchronous event the controller reported (Asynchronous Event Request completion, NVMe Base 2.0, 5.2).</summary>
public sealed class NvmeAsyncEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public NvmeAsyncEventArgs(byte eventType, byte eventInformation, byte logPageId, IReadOnlyList<uint> changedNamespaces)
    {
        EventType = eventType;
        EventInformation = eventInformation;
        LogPageId = logPageId;
        ChangedNamespaces = changedNamespaces;
    }

    /// <summary>Asynchronous Event Type (DW0 bits 2:0): 0 error, 1 SMART / health, 2 notice, 6 I/O command set specific.</summary>
    public byte EventType { get; }

    /// <summary>Asynchronous Event Information (DW0 bits 15:8); for notices 00h namespace attribute changed, F0h discovery log changed.</summary>
    public byte EventInformation { get; }

    /// <summary>The log page the event refers to (DW0 bits 23:16), already read by the library to clear the event.</summary>
    public byte LogPageId { get; }

    /// <summary>For a namespace attribute change: the namespaces the Changed Namespace List named (empty when it overflowed; all were re-read).</summary>
    public IReadOnlyList<uint> ChangedNamespaces { get; }

    /// <summary>Whether this is a namespace attribute changed notice.</summary>
    public bool IsNamespaceAttributeChanged => Completion.IsNotice(AsyncEventNotice.NamespaceAttributeChanged);

    /// <summary>Whether this is an ANA change notice; the controller has re-read its ANA log (<see cref="NvmeController.AnaLog"/>) before raising it.</summary>
    public bool IsAnaChange => Completion.IsNotice(AsyncEventNotice.AnaChange);

    /// <summary>Whether this is a discovery log page change notice.</summary>
    public bool IsDiscoveryLogChanged => Completion.IsNotice(AsyncEventNotice.DiscoveryLogPageChange);

    private AsyncEventCompletion Completion => new((AsyncEventType)EventType, EventInformation, LogPageId);
}
