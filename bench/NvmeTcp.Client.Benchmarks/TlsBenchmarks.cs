using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using NvmeTcp.Client.Transport;
using NvmeTcp.Protocol.Tls;
using NvmeTcp.Target;

namespace NvmeTcp.Client.Benchmarks;

/// <summary>
/// 4 KiB reads and writes against the in-process target's null namespace over loopback, plain and inside TLS 1.3
/// (TLS_AES_128_GCM_SHA256), in the same run. The allocation column counts both ends (client and target run in this
/// process, and both encrypt and decrypt): what TLS adds per I/O is the difference between the rows.
/// </summary>
[MemoryDiagnoser]
public class TlsRoundTripBenchmarks
{
    private const int Operations = 1024;
    private static readonly NvmeTlsKey Key = NvmeTlsKey.Create(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(), NvmeTlsPskHash.Sha256);

    private NvmeTcpTarget _target = null!;
    private NvmeController _controller = null!;
    private NvmeQueuePair _queue = null!;
    private NvmeNamespace _namespace = null!;
    private byte[] _buffer = [];

    [Params(false, true)]
    public bool Tls { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        const string host = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-0000000be7c4";
        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), Tls = Tls ? NvmeTargetTls.Required : NvmeTargetTls.None };
        var subsystem = new NvmeSubsystemOptions("nqn.2026-11.dev.nvmetcp:bench-tls");
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1L << 30, 4096, NvmeNamespaceBacking.Null));
        subsystem.TlsKeys.Add(new NvmeHostTlsKey(host, Key));
        options.Subsystems.Add(subsystem);
        _target = await NvmeTcpTarget.StartAsync(options);
        _controller = await NvmeController.ConnectAsync(new NvmeTcpOptions
        {
            Port = _target.EndPoint.Port,
            SubsystemNqn = subsystem.Nqn,
            HostNqn = host,
            IoQueueCount = 1,
            KeepAliveTimeout = TimeSpan.Zero,
            Tls = Tls ? new NvmeTlsOptions { Key = Key } : null,
        });
        _queue = _controller.IoQueues[0];
        _namespace = _controller.GetNamespace(1);
        _buffer = GC.AllocateArray<byte>(4096, pinned: true);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _controller.DisposeAsync();
        await _target.DisposeAsync();
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask Read4KAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await _queue.ReadAsync(_namespace, 0, _buffer);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask Write4KAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await _queue.WriteAsync(_namespace, 0, _buffer);
        }
    }
}

/// <summary>
/// One TLS record each way through <see cref="TlsPskChannel"/> over a loopback socket pair: sealed and sent by one
/// side, received and opened by the other. The allocation column is what BouncyCastle's record layer (and the channel)
/// cost per record, seal and open together.
/// </summary>
[MemoryDiagnoser]
public class TlsRecordBenchmarks : IDisposable
{
    private const int Records = 256;

    private Socket? _listener;
    private TlsPskChannel _client = null!;
    private TlsPskChannel _server = null!;
    private byte[] _data = [];
    private byte[] _received = [];

    [Params(128, 4096, 16384)]
    public int Size { get; set; }

    /// <summary>Record protection by .NET's AesGcm (true) or BouncyCastle's GCM (false): the A/B of the same run.</summary>
    [Params(false, true)]
    public bool NetAesGcm { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var psk = NvmeTlsKey.Create(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(), NvmeTlsPskHash.Sha256).DeriveTlsPsk("nqn.h", "nqn.s", 1);
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(1);
        var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accept = _listener.AcceptAsync();
        await raw.ConnectAsync(_listener.LocalEndPoint!);
        var serverSocket = await accept;
        var server = TlsPskChannel.AcceptAsync(serverSocket, _ => psk, CancellationToken.None, NetAesGcm);
        _client = await TlsPskChannel.ConnectAsync(raw, psk, CancellationToken.None, NetAesGcm);
        _server = await server;
        _data = new byte[Size];
        _received = new byte[Size];
    }

    [GlobalCleanup]
    public void Cleanup() => Dispose();

    /// <summary>Closes the sockets.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes the sockets.</summary>
    /// <param name="disposing">Called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        _client?.Dispose();
        _server?.Dispose();
        _listener?.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Records)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SealSendReceiveOpenAsync()
    {
        for (var i = 0; i < Records; i++)
        {
            await _client.SendAsync(_data, CancellationToken.None);
            var received = 0;
            while (received < _data.Length)
            {
                received += await _server.ReceiveAsync(_received.AsMemory(received), CancellationToken.None);
            }
        }
    }
}

/// <summary>
/// The same record sealed by one BouncyCastle protocol object and opened by another, in memory (no socket): the CPU and
/// allocation of record protection alone, with .NET's AesGcm (<see cref="AesGcmTlsCrypto"/>) or BouncyCastle's GCM.
/// </summary>
[MemoryDiagnoser]
public class TlsRecordCryptoBenchmarks
{
    private const int Records = 256;
    private Org.BouncyCastle.Tls.TlsClientProtocol _client = null!;
    private Org.BouncyCastle.Tls.TlsServerProtocol _server = null!;
    private byte[] _data = [];
    private byte[] _wire = [];
    private byte[] _received = [];

    [Params(4096, 16384)]
    public int Size { get; set; }

    [Params(false, true)]
    public bool NetAesGcm { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var psk = NvmeTlsKey.Create(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(), NvmeTlsPskHash.Sha256).DeriveTlsPsk("nqn.h", "nqn.s", 1);
        Org.BouncyCastle.Tls.Crypto.Impl.BC.BcTlsCrypto Crypto() => NetAesGcm ? new AesGcmTlsCrypto(new Org.BouncyCastle.Security.SecureRandom()) : new Org.BouncyCastle.Tls.Crypto.Impl.BC.BcTlsCrypto(new Org.BouncyCastle.Security.SecureRandom());
        _client = new Org.BouncyCastle.Tls.TlsClientProtocol();
        _server = new Org.BouncyCastle.Tls.TlsServerProtocol();
        _client.Connect(new Client(Crypto(), psk));
        _server.Accept(new Server(Crypto(), psk));
        _wire = new byte[Size + 1024];
        for (var round = 0; round < 10 && (_client.IsHandshaking || _server.IsHandshaking); round++)
        {
            Pass(_client, _server);
            Pass(_server, _client);
        }

        _data = new byte[Size];
        _received = new byte[Size];
    }

    private void Pass(Org.BouncyCastle.Tls.TlsProtocol from, Org.BouncyCastle.Tls.TlsProtocol to)
    {
        int length;
        while ((length = from.ReadOutput(_wire, 0, _wire.Length)) > 0)
        {
            to.OfferInput(_wire, 0, length);
        }
    }

    [Benchmark(OperationsPerInvoke = Records)]
    public int SealAndOpen()
    {
        var total = 0;
        for (var i = 0; i < Records; i++)
        {
            _client.WriteApplicationData(_data);
            Pass(_client, _server);
            total += _server.ReadInput(_received, 0, _received.Length);
        }

        return total;
    }

    private static Org.BouncyCastle.Tls.BasicTlsPskExternal External(Org.BouncyCastle.Tls.Crypto.TlsCrypto crypto, NvmeTlsPsk psk) =>
        new(System.Text.Encoding.UTF8.GetBytes(psk.Identity), crypto.CreateSecret(psk.CopyKey()), Org.BouncyCastle.Tls.PrfAlgorithm.tls13_hkdf_sha256);

    private sealed class Client(Org.BouncyCastle.Tls.Crypto.TlsCrypto crypto, NvmeTlsPsk psk) : Org.BouncyCastle.Tls.AbstractTlsClient(crypto)
    {
        public override IList<Org.BouncyCastle.Tls.TlsPskExternal> GetExternalPsks() => [External(Crypto, psk)];

        public override Org.BouncyCastle.Tls.TlsAuthentication GetAuthentication() => throw new Org.BouncyCastle.Tls.TlsFatalAlert(Org.BouncyCastle.Tls.AlertDescription.internal_error);

        protected override Org.BouncyCastle.Tls.ProtocolVersion[] GetSupportedVersions() => Org.BouncyCastle.Tls.ProtocolVersion.TLSv13.Only();

        protected override int[] GetSupportedCipherSuites() => [Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256];
    }

    private sealed class Server(Org.BouncyCastle.Tls.Crypto.TlsCrypto crypto, NvmeTlsPsk psk) : Org.BouncyCastle.Tls.AbstractTlsServer(crypto)
    {
        public override Org.BouncyCastle.Tls.TlsCredentials GetCredentials() => null!;

        public override Org.BouncyCastle.Tls.TlsPskExternal GetExternalPsk(IList<Org.BouncyCastle.Tls.PskIdentity> identities) => External(Crypto, psk);

        protected override Org.BouncyCastle.Tls.ProtocolVersion[] GetSupportedVersions() => Org.BouncyCastle.Tls.ProtocolVersion.TLSv13.Only();

        protected override int[] GetSupportedCipherSuites() => [Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256];
    }
}
