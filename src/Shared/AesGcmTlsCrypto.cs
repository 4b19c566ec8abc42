// Compiled into both NvmeTcp.Client and NvmeTcp.Target with TlsPskChannel.cs (see there).
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

#if NVMETCP_TARGET
namespace NvmeTcp.Target.Internal.Transport;
#else
namespace NvmeTcp.Client.Transport;
#endif

/// <summary>
/// BouncyCastle's TLS crypto with the record protection of AES-GCM suites done by .NET's <see cref="AesGcm"/>
/// (AES-NI and carry-less multiply through the platform's library) instead of BouncyCastle's managed GCM. Everything
/// else (the key schedule, HKDF, the key exchange) stays BouncyCastle's.
/// </summary>
internal sealed class AesGcmTlsCrypto(SecureRandom random) : BcTlsCrypto(random)
{
    /// <summary>Whether this platform has <see cref="AesGcm"/>; when not, BouncyCastle's GCM is used.</summary>
    public static bool IsSupported => AesGcm.IsSupported;

    /// <inheritdoc/>
    protected override TlsAeadCipher CreateCipher_Aes_Gcm(TlsCryptoParameters cryptoParams, int cipherKeySize, int macSize) =>
        IsSupported && macSize == AesGcmTagSize
            ? new TlsAeadCipher(cryptoParams, new AesGcmAead(encrypt: true), new AesGcmAead(encrypt: false), cipherKeySize, macSize, TlsAeadCipher.AEAD_GCM)
            : base.CreateCipher_Aes_Gcm(cryptoParams, cipherKeySize, macSize);

    private const int AesGcmTagSize = 16;

    /// <summary>One direction's AEAD: BouncyCastle passes the nonce per record, and the record header as additional data.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BouncyCastle owns the cipher and never disposes it; AesGcm's key handle is a SafeHandle, released when the session is collected.")]
    private sealed class AesGcmAead(bool encrypt) : TlsAeadCipherImpl
    {
        private AesGcm? _aes;
        private byte[] _nonce = [];
        private byte[]? _additionalData;

        public void SetKey(byte[] key, int keyOff, int keyLen) => SetKey(key.AsSpan(keyOff, keyLen));

        public void SetKey(ReadOnlySpan<byte> key)
        {
            // A KeyUpdate (RFC 8446 4.6.3) sets a new key on the same object.
            _aes?.Dispose();
            _aes = new AesGcm(key, AesGcmTagSize);
        }

        public void Init(byte[] nonce, int macSize, byte[]? additionalData)
        {
            if (macSize != AesGcmTagSize)
            {
                throw new ArgumentOutOfRangeException(nameof(macSize), macSize, "AES-GCM in TLS has a 16-byte tag.");
            }

            _nonce = nonce;
            _additionalData = additionalData;
        }

        public int GetOutputSize(int inputLength) => encrypt ? inputLength + AesGcmTagSize : Math.Max(0, inputLength - AesGcmTagSize);

        public int DoFinal(byte[] input, int inputOffset, int inputLength, byte[] output, int outputOffset) =>
            DoFinal(_additionalData, input, inputOffset, inputLength, output, outputOffset);

        public int DoFinal(byte[]? additionalInput, byte[] input, int inputOffset, int inputLength, byte[] output, int outputOffset)
        {
            var aes = _aes ?? throw new InvalidOperationException("AES-GCM used before its key was set.");
            var associated = additionalInput ?? _additionalData ?? [];

            // BouncyCastle seals and opens in place (the same offset) or into another array; AesGcm allows both.
            if (encrypt)
            {
                var plaintext = input.AsSpan(inputOffset, inputLength);
                aes.Encrypt(_nonce, plaintext, output.AsSpan(outputOffset, inputLength), output.AsSpan(outputOffset + inputLength, AesGcmTagSize), associated);
                return inputLength + AesGcmTagSize;
            }

            var length = inputLength - AesGcmTagSize;
            if (length < 0)
            {
                throw new InvalidCipherTextException("record shorter than its AES-GCM tag");
            }

            try
            {
                aes.Decrypt(_nonce, input.AsSpan(inputOffset, length), input.AsSpan(inputOffset + length, AesGcmTagSize), output.AsSpan(outputOffset, length), associated);
            }
            catch (AuthenticationTagMismatchException e)
            {
                // BouncyCastle turns this into the alert bad_record_mac, as for its own GCM.
                throw new InvalidCipherTextException("AES-GCM tag mismatch", e);
            }

            return length;
        }

        public void Reset()
        {
        }
    }
}
