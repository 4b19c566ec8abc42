using System.Net.Sockets;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    private const int Seed = 20261202;

    /// <summary>
    /// Random bytes, with and without a valid ICReq first: every connection ends (the target closes it once the host
    /// has sent its last byte and half-closed), nothing is left in the connection table, the process stays within
    /// bounds, and a clean host is served correctly afterwards.
    /// </summary>
    [Fact]
    public async Task Random_sessions_leave_the_target_flat()
    {
        await using var target = await TestTargets.StartAsync();
        var baseline = ProcessResources.Take();
        var random = new Random(Seed);
        var icreq = new byte[IcReqPdu.Length];
        new IcReqPdu(0, 0, DigestTypes.None, 0).Encode(icreq);
        for (var session = 0; session < 300; session++)
        {
            var noise = new byte[random.Next(1, 4096)];
            random.NextBytes(noise);
            await RunSessionAsync(target, session % 2 == 0 ? [.. icreq, .. noise] : noise, $"random session {session} (seed {Seed})");
        }

        await HostileHost.ConnectionsGoneAsync(target);
        ProcessResources.Take().AssertWithin(baseline, "300 random sessions");
        await HostileHost.AssertServesCleanHostAsync(target, "random sessions");
    }

    /// <summary>
    /// Valid admin and I/O sessions (ICReq, Connect, Property Set/Get, Identify, Get Log Page, Set Features, AER, reads,
    /// in-capsule writes, an R2T write and its H2CData), each mutated: bytes flipped, cut short, a stretch repeated or
    /// random bytes inserted. Same checks as for random bytes.
    /// </summary>
    [Fact]
    public async Task Mutated_sessions_leave_the_target_flat()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _ = admin;
        var baseline = ProcessResources.Take();
        var adminSession = await RecordSessionAsync(target, admin: true, cntlid);
        var ioSession = await RecordSessionAsync(target, admin: false, cntlid);
        var random = new Random(Seed);
        for (var session = 0; session < 1000; session++)
        {
            var bytes = Mutate(session % 2 == 0 ? adminSession : ioSession, random);
            await RunSessionAsync(target, bytes, $"mutated session {session} (seed {Seed})");
        }

        await HostileHost.ConnectionsGoneAsync(target, expected: 1);
        ProcessResources.Take().AssertWithin(baseline, "1,000 mutated sessions");
        await HostileHost.AssertServesCleanHostAsync(target, "mutated sessions");
        var (keepAlive, _) = await admin.ExecuteAsync(AdminCommands.KeepAlive());
        Assert.True(keepAlive.Status.IsSuccess, "the admin queue open through it all still serves");
    }

    /// <summary>Sends <paramref name="bytes"/>, half-closes, and reads until the target closes too (bounded).</summary>
    private static async Task RunSessionAsync(NvmeTcpTarget target, byte[] bytes, string what)
    {
        using var socket = new Socket(target.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(RawHost.Timeout);
        await socket.ConnectAsync(target.EndPoint, cts.Token);
        try
        {
            await socket.SendAsync(bytes, SocketFlags.None, cts.Token);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            return; // the target closed first (a violation in the first bytes)
        }

        var sink = new byte[64 * 1024];
        try
        {
            for (var reads = 0; reads < 100_000; reads++)
            {
                if (await socket.ReceiveAsync(sink, SocketFlags.None, cts.Token) == 0)
                {
                    return;
                }
            }
        }
        catch (SocketException)
        {
            return; // reset: closed as well
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{what}: the target did not close the connection within {RawHost.Timeout.TotalSeconds} s.");
        }
    }

    /// <summary>The bytes of a valid session, as a host would send them without waiting for answers.</summary>
    private static async Task<byte[]> RecordSessionAsync(NvmeTcpTarget target, bool admin, ushort cntlid)
    {
        await using var host = await RawHost.ConnectAsync(target.EndPoint);
        var icreq = new byte[IcReqPdu.Length];
        new IcReqPdu(0, 0, DigestTypes.None, 0).Encode(icreq);
        var session = new List<byte>(icreq);
        ushort cid = 1;
        void Add(Sqe sqe, ReadOnlySpan<byte> data = default)
        {
            sqe.Cid = cid++;
            session.AddRange(host.EncodeCommand(sqe, data));
        }

        if (admin)
        {
            Add(ConnectCommand.Create(0, 32, ConnectAttributes.None, 5000).InCapsule(), RawHost.ConnectDataFor(TestTargets.Nqn));
            Add(PropertyCommands.Get(ControllerProperty.Cap));
            Add(PropertyCommands.Set(ControllerProperty.Cc, 1u | (6u << 16) | (4u << 20)));
            Add(PropertyCommands.Get(ControllerProperty.Csts));
            Add(IdentifyCommand.Controller());
            Add(IdentifyCommand.ActiveNamespaces());
            Add(GetLogPageCommand.Create(LogPageId.ErrorInformation, 4096));
            Add(GetLogPageCommand.Create(LogPageId.SmartHealth, 512, 0xFFFFFFFF));
            Add(FeatureCommands.SetNumberOfQueues(4, 4));
            Add(FeatureCommands.SetAsyncEventConfiguration(AsyncEventConfiguration.NamespaceAttribute));
            Add(AdminCommands.AsynchronousEventRequest());
            Add(AdminCommands.KeepAlive());
        }
        else
        {
            Add(ConnectCommand.Create(1, 128).InCapsule(), RawHost.ConnectDataFor(TestTargets.Nqn, cntlid));
            Add(ReadWriteCommands.Write(1, 8, 8, 4096).InCapsule(), TestTargets.Pattern(4096, 3));
            Add(ReadWriteCommands.Read(1, 8, 8, 4096));
            Add(ReadWriteCommands.Write(1, 64, 32, 16384));
            session.AddRange(host.EncodeH2CData((ushort)(cid - 1), 0, 0, TestTargets.Pattern(16384, 4), last: true));
            Add(ReadWriteCommands.Compare(1, 8, 8, 4096).InCapsule(), TestTargets.Pattern(4096, 3));
            Add(ReadWriteCommands.WriteZeroes(1, 100, 16));
            Add(ReadWriteCommands.Flush(1));
        }

        return [.. session];
    }

    private static byte[] Mutate(byte[] session, Random random)
    {
        var bytes = new List<byte>(session);
        switch (random.Next(4))
        {
            case 0:
                for (var flips = random.Next(1, 5); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Count)] ^= (byte)(1 << random.Next(8));
                }

                break;
            case 1:
                var cut = random.Next(1, bytes.Count);
                bytes.RemoveRange(cut, bytes.Count - cut);
                break;
            case 2:
                var from = random.Next(bytes.Count);
                var length = Math.Min(random.Next(1, 512), bytes.Count - from);
                bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(from, length));
                break;
            default:
                var noise = new byte[random.Next(1, 64)];
                random.NextBytes(noise);
                bytes.InsertRange(random.Next(bytes.Count), noise);
                break;
        }

        return [.. bytes];
    }
}
