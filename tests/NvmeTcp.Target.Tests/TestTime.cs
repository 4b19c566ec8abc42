using Microsoft.Extensions.Time.Testing;

namespace NvmeTcp.Target.Tests;

/// <summary>
/// A fake clock that also counts the timers made on it, so that a test knows a delay has started before it moves the
/// clock past it (<see cref="FakeTimeProvider"/> does not tell).
/// </summary>
internal sealed class TestTime : FakeTimeProvider
{
    private int _timers;

    public int TimersCreated => Volatile.Read(ref _timers);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        Interlocked.Increment(ref _timers);
        return timer;
    }

    /// <summary>
    /// Waits, at most <see cref="RawHost.Timeout"/>, for something another thread makes true. It only ever proves a
    /// presence: the wait ends as soon as the condition holds.
    /// </summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + RawHost.Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
