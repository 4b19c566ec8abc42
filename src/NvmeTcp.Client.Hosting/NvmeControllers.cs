using System.Collections.Concurrent;

namespace NvmeTcp.Client.Hosting;

/// <summary>
/// The named controllers <c>AddNvmeTcp</c> configured, as the hosted service connects them. Inject it to reach a
/// controller by name; a controller may come and go (the service connects anew after one is deleted), so look it up
/// when you need it rather than keeping it.
/// </summary>
public sealed class NvmeControllers
{
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.OrdinalIgnoreCase);

    internal NvmeControllers(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            _slots[name] = new Slot();
        }
    }

    /// <summary>The configured names.</summary>
    public IReadOnlyCollection<string> Names => [.. _slots.Keys];

    /// <summary>The controller named <paramref name="name"/> if it is connected now, else null.</summary>
    /// <param name="name">A configured name.</param>
    /// <returns>The controller, or null.</returns>
    /// <exception cref="KeyNotFoundException">No controller of that name is configured.</exception>
    public NvmeController? Find(string name) => SlotOf(name).Controller;

    /// <summary>The controller named <paramref name="name"/>, connected.</summary>
    /// <param name="name">A configured name.</param>
    /// <returns>The controller.</returns>
    /// <exception cref="InvalidOperationException">It is not connected (the message says why, when known).</exception>
    public NvmeController Get(string name)
    {
        var slot = SlotOf(name);
        return slot.Controller ?? throw new InvalidOperationException($"NVMe controller '{name}' is not connected{(slot.LastError is { } e ? $": {e}" : ".")}");
    }

    /// <summary>Waits until the controller named <paramref name="name"/> is connected.</summary>
    /// <param name="name">A configured name.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The controller.</returns>
    public async Task<NvmeController> WaitAsync(string name, CancellationToken cancellationToken = default)
    {
        var slot = SlotOf(name);
        while (true)
        {
            var connected = slot.Connected;
            if (slot.Controller is { } controller)
            {
                return controller;
            }

            await connected.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Why the last connect attempt of <paramref name="name"/> failed, or why its controller was deleted; null if none did.</summary>
    /// <param name="name">A configured name.</param>
    /// <returns>The error's message.</returns>
    public string? LastError(string name) => SlotOf(name).LastError;

    internal void SetConnected(string name, NvmeController controller)
    {
        var slot = SlotOf(name);
        slot.Controller = controller;
        slot.LastError = null;
        slot.Signal.TrySetResult();
    }

    internal void SetDisconnected(string name, string? error)
    {
        var slot = SlotOf(name);
        slot.Controller = null;
        slot.LastError = error ?? slot.LastError;
        if (slot.Signal.Task.IsCompleted)
        {
            slot.Signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private Slot SlotOf(string name) =>
        _slots.TryGetValue(name, out var slot) ? slot : throw new KeyNotFoundException($"No NVMe controller named '{name}' is configured (NvmeTcp:Controllers).");

    private sealed class Slot
    {
        private volatile NvmeController? _controller;
        private volatile string? _lastError;
        private volatile TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public NvmeController? Controller { get => _controller; set => _controller = value; }

        public string? LastError { get => _lastError; set => _lastError = value; }

        public TaskCompletionSource Signal { get => _signal; set => _signal = value; }

        public Task Connected => _signal.Task;
    }
}
