using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace NvmeTcp.Bench.Macro;

/// <summary>
/// This machine's loopback limits, measured by two plain TCP processes with no NVMe logic, placed like the client and
/// the target (separate processes, unpinned, async sockets on the thread pool as both sides of ours use).
/// The first byte of a connection picks the exercise: 'S' one stream of 128 KiB writes, 'R' 72-byte requests each
/// answered by a 4144-byte reply (the size of a 4 KiB read's CapsuleCmd and its C2HData with header).
/// With a buffer size, both roles ask the kernel for that SO_SNDBUF and SO_RCVBUF and print what it granted (the best
/// placement's run: the harness also pins each role to its own core).
/// </summary>
internal static class Loopback
{
    public const int RequestSize = 72;
    public const int ReplySize = 4144;
    public const int StreamChunk = 128 * 1024;

    /// <summary>
    /// The server process: prints its port (and, with <paramref name="buffers"/>, the buffer sizes granted), serves
    /// until its standard input closes.
    /// </summary>
    public static async Task<int> ServeAsync(int? buffers)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        // On the listener, before listen(): accepted sockets inherit the sizes, and the receive window's scale is
        // chosen from SO_RCVBUF at the handshake.
        var granted = buffers is { } size ? " " + SetBuffers(listener, size) : string.Empty;
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        Console.WriteLine(((IPEndPoint)listener.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture) + granted);
        Console.Out.Flush();
        using var stop = new CancellationTokenSource();
        _ = Task.Run(() =>
        {
            // The orchestrator closes our stdin to stop us (or dies, which closes it too).
            while (Console.In.ReadLine() is not null)
            {
            }

            stop.Cancel();
        });
        try
        {
            while (true)
            {
                var socket = await listener.AcceptAsync(stop.Token).ConfigureAwait(false);
                socket.NoDelay = true;
                _ = Task.Run(() => ServeConnectionAsync(socket));
            }
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
    }

    private static async Task ServeConnectionAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                var kind = new byte[1];
                await ReceiveExactlyAsync(socket, kind).ConfigureAwait(false);
                if (kind[0] == (byte)'S')
                {
                    var buffer = new byte[StreamChunk * 2];
                    long total = 0;
                    int n;
                    while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false)) > 0)
                    {
                        total += n;
                    }

                    var count = new byte[8];
                    BinaryPrimitives.WriteInt64LittleEndian(count, total);
                    await socket.SendAsync(count, SocketFlags.None).ConfigureAwait(false);
                    return;
                }

                // Request/reply: answer every complete request in what one receive brought, with one send, the way a
                // target answering pipelined commands would batch its replies.
                var requests = new byte[RequestSize * 64];
                var replies = new byte[ReplySize * 64];
                var held = 0;
                while (true)
                {
                    var got = await socket.ReceiveAsync(requests.AsMemory(held), SocketFlags.None).ConfigureAwait(false);
                    if (got == 0)
                    {
                        return;
                    }

                    held += got;
                    var complete = held / RequestSize;
                    if (complete > 0)
                    {
                        await SendAllAsync(socket, replies.AsMemory(0, complete * ReplySize)).ConfigureAwait(false);
                        var rest = held - (complete * RequestSize);
                        requests.AsSpan(complete * RequestSize, rest).CopyTo(requests);
                        held = rest;
                    }
                }
            }
            catch (SocketException)
            {
            }
        }
    }

    /// <summary>
    /// The client process: runs one exercise for <paramref name="seconds"/> and prints one result line (with
    /// <paramref name="buffers"/>, also the buffer sizes granted).
    /// </summary>
    public static async Task<int> RunClientAsync(int port, string mode, double seconds, int? buffers)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var granted = buffers is { } size ? " " + SetBuffers(socket, size) : string.Empty;
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).ConfigureAwait(false);
        var result = mode switch
        {
            "stream" => await StreamAsync(socket, seconds).ConfigureAwait(false),
            "qd1" => await RequestReplyAsync(socket, 1, seconds, sync: false).ConfigureAwait(false),
            "qd1-sync" => await RequestReplyAsync(socket, 1, seconds, sync: true).ConfigureAwait(false),
            "qd32" => await RequestReplyAsync(socket, 32, seconds, sync: false).ConfigureAwait(false),
            _ => throw new ArgumentException($"unknown mode {mode}"),
        };
        Console.WriteLine(result + granted);
        return 0;
    }

    /// <summary>
    /// Asks for <paramref name="size"/> bytes of SO_SNDBUF and SO_RCVBUF (which turns the kernel's autotuning off for
    /// this socket) and returns what the kernel granted: Linux doubles the request for its bookkeeping, capped at
    /// twice net.core.wmem_max / rmem_max.
    /// </summary>
    private static string SetBuffers(Socket socket, int size)
    {
        socket.SendBufferSize = size;
        socket.ReceiveBufferSize = size;
        return Invariant($"sndbuf_granted={socket.SendBufferSize} rcvbuf_granted={socket.ReceiveBufferSize}");
    }

    private static async Task<string> StreamAsync(Socket socket, double seconds)
    {
        await socket.SendAsync("S"u8.ToArray(), SocketFlags.None).ConfigureAwait(false);
        var chunk = new byte[StreamChunk];
        Random.Shared.NextBytes(chunk);
        var cpu = Environment.CpuUsage.TotalTime;
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(seconds * Stopwatch.Frequency);
        long sent = 0;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            await SendAllAsync(socket, chunk).ConfigureAwait(false);
            sent += chunk.Length;
        }

        socket.Shutdown(SocketShutdown.Send);
        var count = new byte[8];
        await ReceiveExactlyAsync(socket, count).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var received = BinaryPrimitives.ReadInt64LittleEndian(count);
        if (received != sent)
        {
            throw new InvalidOperationException($"server counted {received} bytes of {sent}");
        }

        return Invariant($"bytes_per_sec={received / elapsed:F0} cpu_us_per_mib={(Environment.CpuUsage.TotalTime - cpu).TotalMicroseconds / (received / 1048576.0):F1}");
    }

    private static async Task<string> RequestReplyAsync(Socket socket, int depth, double seconds, bool sync)
    {
        await socket.SendAsync("R"u8.ToArray(), SocketFlags.None).ConfigureAwait(false);
        var requests = new byte[RequestSize * depth];
        var replies = new byte[ReplySize * depth];
        var samples = new long[depth == 1 ? 4_000_000 : 0];
        var sampleCount = 0;
        long messages = 0;
        var cpu = Environment.CpuUsage.TotalTime;
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(seconds * Stopwatch.Frequency);
        if (depth == 1)
        {
            while (Stopwatch.GetTimestamp() < deadline && sampleCount < samples.Length)
            {
                var before = Stopwatch.GetTimestamp();
                if (sync)
                {
                    socket.Send(requests.AsSpan(0, RequestSize));
                    ReceiveExactly(socket, replies.AsSpan(0, ReplySize));
                }
                else
                {
                    await SendAllAsync(socket, requests.AsMemory(0, RequestSize)).ConfigureAwait(false);
                    await ReceiveExactlyAsync(socket, replies.AsMemory(0, ReplySize)).ConfigureAwait(false);
                }

                samples[sampleCount++] = Stopwatch.GetTimestamp() - before;
            }

            messages = sampleCount;
        }
        else
        {
            // A window of `depth` requests: every reply that arrives frees a slot, refilled in one send per receive.
            await SendAllAsync(socket, requests.AsMemory(0, RequestSize * depth)).ConfigureAwait(false);
            var outstanding = depth;
            var partial = 0;
            var draining = false;
            while (outstanding > 0)
            {
                var got = await socket.ReceiveAsync(replies.AsMemory(partial), SocketFlags.None).ConfigureAwait(false);
                if (got == 0)
                {
                    throw new InvalidOperationException("server closed");
                }

                partial += got;
                var complete = partial / ReplySize;
                partial -= complete * ReplySize;
                outstanding -= complete;
                messages += complete;
                draining |= Stopwatch.GetTimestamp() >= deadline;
                if (!draining && complete > 0)
                {
                    await SendAllAsync(socket, requests.AsMemory(0, complete * RequestSize)).ConfigureAwait(false);
                    outstanding += complete;
                }
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpuUs = (Environment.CpuUsage.TotalTime - cpu).TotalMicroseconds;
        var line = Invariant($"messages_per_sec={messages / elapsed:F0} cpu_us_per_msg={cpuUs / messages:F2}");
        if (depth == 1)
        {
            Array.Sort(samples, 0, sampleCount);
            var mean = 0.0;
            for (var i = 0; i < sampleCount; i++)
            {
                mean += samples[i];
            }

            line += Invariant($" rtt_mean_us={ToMicroseconds(mean / sampleCount):F1} rtt_p50_us={ToMicroseconds(samples[sampleCount / 2]):F1} rtt_p99_us={ToMicroseconds(samples[(int)(sampleCount * 0.99)]):F1}");
        }

        return line;
    }

    private static double ToMicroseconds(double ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[await socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false)..];
        }
    }

    private static async ValueTask ReceiveExactlyAsync(Socket socket, Memory<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
            if (n == 0)
            {
                throw new InvalidOperationException("server closed");
            }

            buffer = buffer[n..];
        }
    }

    private static void ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var n = socket.Receive(buffer);
            if (n == 0)
            {
                throw new InvalidOperationException("server closed");
            }

            buffer = buffer[n..];
        }
    }
}
