using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>
/// A fake clock that records the timers made on it (due time, period, how often each fired), so that a test knows a
/// delay or a periodic timer has started before it moves the clock, and can tell which timers the move fired.
/// </summary>
/// <remarks>
/// <see cref="FakeTimeProvider"/> runs the callbacks that fall due inside <see cref="FakeTimeProvider.Advance"/>, on
/// the caller's thread; what awaits a <c>Task.Delay</c> or a <c>PeriodicTimer</c> on it resumes there too, up to its
/// next wait. Sockets still run in real time: only timers move with the clock.
/// </remarks>
internal sealed class TestClock : FakeTimeProvider
{
    private readonly ConcurrentQueue<ClockTimer> _timers = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ClockTimer(dueTime, period);
        _timers.Enqueue(timer);
        return base.CreateTimer(
            s =>
            {
                timer.OnFired();
                callback(s);
            },
            state,
            dueTime,
            period);
    }

    /// <summary>The timers made so far with this due time and period (a one-shot delay has an infinite period), oldest first.</summary>
    public IReadOnlyList<ClockTimer> Timers(TimeSpan dueTime, TimeSpan period) =>
        _timers.Where(t => t.DueTime == dueTime && t.Period == period).ToArray();

    /// <summary>Waits, within <see cref="LoopbackTarget.Bound"/>, for the <paramref name="ordinal"/>-th timer of this due time and period.</summary>
    public async Task<ClockTimer> WaitForTimerAsync(TimeSpan dueTime, TimeSpan period, string what, int ordinal = 1)
    {
        await Eventually.TrueAsync(() => Timers(dueTime, period).Count >= ordinal, what);
        return Timers(dueTime, period)[ordinal - 1];
    }

    /// <summary>Waits for a one-shot timer (<c>Task.Delay</c>, a timed cancellation) of <paramref name="dueTime"/>.</summary>
    public Task<ClockTimer> WaitForDelayAsync(TimeSpan dueTime, string what, int ordinal = 1) =>
        WaitForTimerAsync(dueTime, Timeout.InfiniteTimeSpan, what, ordinal);
}

/// <summary>One timer made on a <see cref="TestClock"/>.</summary>
internal sealed class ClockTimer(TimeSpan dueTime, TimeSpan period)
{
    private int _fired;

    public TimeSpan DueTime { get; } = dueTime;

    public TimeSpan Period { get; } = period;

    /// <summary>How often its callback ran.</summary>
    public int Fired => Volatile.Read(ref _fired);

    internal void OnFired() => Interlocked.Increment(ref _fired);
}

/// <summary>Waits for a presence, never an absence: the wait ends as soon as the condition holds.</summary>
internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails after <see cref="LoopbackTarget.Bound"/>.</summary>
    public static async Task TrueAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + LoopbackTarget.Bound;
        for (var i = 0; i < 100_000 && !condition(); i++)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(2);
        }

        Assert.True(condition(), $"Gave up waiting for {what}.");
    }

    /// <summary>Polls <paramref name="condition"/> for at most <paramref name="bound"/>; whether it came to hold.</summary>
    public static async Task<bool> WithinAsync(Func<bool> condition, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        for (var i = 0; i < 100_000 && !condition() && DateTime.UtcNow < deadline; i++)
        {
            await Task.Delay(2);
        }

        return condition();
    }
}
