using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using NvmeTcp.Protocol;
using NvmeTcp.Client.Transport;

namespace NvmeTcp.Client.Tests.Transport;

/// <summary>ICReq/ICResp: what the client accepts before it sends anything else.</summary>
public sealed class IcNegotiationTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static QueueConnectionOptions Options(bool digests = false) => new()
    {
        QueueId = 0,
        QueueSize = 4,
        HeaderDigest = digests,
        DataDigest = digests,
        ConnectTimeout = TimeSpan.FromMilliseconds(500),
    };

    [Fact]
    public async Task ICReq_is_what_Linux_sends()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options(digests: true));
        Assert.True(connection.Codec.HeaderDigest);
        Assert.True(connection.Codec.DataDigest);
        Assert.Equal(128u * 1024, connection.Codec.MaxH2CData);
    }

    public static TheoryData<string, int> BadResponses => new()
    {
        { "digest-not-asked", 1 },
        { "digest-dropped", 1 },
        { "maxh2cdata-4095", 1 },
        { "maxh2cdata-4098", 1 },
        { "pfv-1", 6 },
    };

    [Theory]
    [MemberData(nameof(BadResponses))]
    public async Task Bad_ICResp_fails_the_connection_with_a_protocol_error(string what, int fes)
    {
        await using var target = ScriptedController.Start();
        var asksDigests = what == "digest-dropped";
        var connect = QueueConnection.ConnectAsync(target.EndPoint, Options(asksDigests), CancellationToken.None);
        await target.AcceptAsync(request => what switch
        {
            "digest-not-asked" => new IcRespPdu(0, 0, DigestTypes.Header, 8192),
            "digest-dropped" => new IcRespPdu(0, 0, DigestTypes.None, 8192),
            "maxh2cdata-4095" => new IcRespPdu(0, 0, request.Digests, 4095),
            "maxh2cdata-4098" => new IcRespPdu(0, 0, request.Digests, 4098),
            _ => new IcRespPdu(1, 0, request.Digests, 8192),
        });
        var error = await Assert.ThrowsAsync<NvmeTcpProtocolException>(() => connect.WaitAsync(Bound));
        Assert.Equal(fes, error.FatalErrorStatus);
    }

    // The connect timeout runs on the connection's clock: a fake one here, so the test decides when it passes.
    private static QueueConnectionOptions OnClock(FakeTimeProvider clock) => new()
    {
        QueueId = 0,
        QueueSize = 4,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        TimeProvider = clock,
    };

    // Accepts the host's connection and reads its whole ICReq: the host now waits for the ICResp.
    private static async Task<Socket> AcceptICReqAsync(TcpListener listener)
    {
        var socket = await listener.AcceptSocketAsync().WaitAsync(Bound);
        var request = new byte[IcReqPdu.Length];
        for (var read = 0; read < request.Length;)
        {
            var n = await socket.ReceiveAsync(request.AsMemory(read), SocketFlags.None).AsTask().WaitAsync(Bound);
            Assert.True(n > 0, "the host closed before its ICReq");
            read += n;
        }

        return socket;
    }

    [Fact]
    public async Task No_ICResp_within_the_timeout_is_a_timeout()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var clock = new FakeTimeProvider();
        var connect = QueueConnection.ConnectAsync(listener.LocalEndpoint, OnClock(clock), CancellationToken.None);
        using var silent = await AcceptICReqAsync(listener);
        clock.Advance(TimeSpan.FromSeconds(10));
        var error = await Assert.ThrowsAsync<NvmeTimeoutException>(() => connect.WaitAsync(Bound));
        Assert.Contains("no ICResp", error.Message, StringComparison.Ordinal);

        // The host closed the connection: the controller's side reads the end of the stream.
        Assert.Equal(0, await silent.ReceiveAsync(new byte[1].AsMemory(), SocketFlags.None).AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task ICResp_a_millisecond_before_the_timeout_connects()
    {
        // Had the timeout fired early, the connection would have failed before this ICResp was sent.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var clock = new FakeTimeProvider();
        var connect = QueueConnection.ConnectAsync(listener.LocalEndpoint, OnClock(clock), CancellationToken.None);
        using var socket = await AcceptICReqAsync(listener);
        clock.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        var response = new byte[IcRespPdu.Length];
        new IcRespPdu(0, 0, DigestTypes.None, 8192).Encode(response);
        await socket.SendAsync(response.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Bound);
        await using var connection = await connect.WaitAsync(Bound);
        Assert.Null(connection.Failure);
    }

    [Fact]
    public async Task Closed_port_is_a_transport_error()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endPoint = listener.LocalEndpoint;
        listener.Stop();
        var error = await Assert.ThrowsAsync<NvmeTransportException>(() => QueueConnection.ConnectAsync(endPoint, Options(), CancellationToken.None).WaitAsync(Bound));
        Assert.True(error.IsRetryable);
    }

    [Fact]
    public async Task C2HTermReq_instead_of_ICResp_is_reported_as_sent_by_the_controller()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var connect = QueueConnection.ConnectAsync(listener.LocalEndpoint, Options(), CancellationToken.None);
        using var socket = await listener.AcceptSocketAsync().WaitAsync(Bound);
        var icReq = new byte[128];
        await socket.ReceiveAsync(icReq, SocketFlags.None).WaitAsync(Bound);
        var term = new byte[TermReqPdu.MaxLength];
        var length = new TermReqPdu(PduType.C2HTermReq, FatalErrorStatus.UnsupportedParameter, 10).Encode(term, icReq.AsSpan(0, 128));
        await socket.SendAsync(term.AsMemory(0, length), SocketFlags.None);
        var error = await Assert.ThrowsAsync<NvmeTcpProtocolException>(() => connect.WaitAsync(Bound));
        Assert.True(error.SentByController);
        Assert.Equal(6, error.FatalErrorStatus);
        Assert.Equal(10u, error.FatalErrorInformation);
    }
}
