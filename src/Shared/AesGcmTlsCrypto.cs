// Compiled into both NvmeTcp.Client and NvmeTcp.Target with TlsPskChannel.cs (see there).
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
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
            ? new SealInPlaceCipher(cryptoParams, new AesGcmAead(encrypt: true), new AesGcmAead(encrypt: false), cipherKeySize, macSize)
            : base.CreateCipher_Aes_Gcm(cryptoParams, cipherKeySize, macSize);

    private const int AesGcmTagSize = 16;

    /// <summary>
    /// BouncyCastle's AEAD record cipher, whose TLS 1.3 seal goes into one buffer kept for the session instead of a
    /// new array per record (the record stream copies the sealed record out before the next is sealed), and whose
    /// additional data (the record header) is one array too. Opening, key updates and every other version are
    /// BouncyCastle's own. The kept arrays are safe because a session's BouncyCastle calls never overlap (TlsPskChannel
    /// makes them under one lock).
    /// </summary>
    private sealed class SealInPlaceCipher(TlsCryptoParameters cryptoParams, TlsAeadCipherImpl encrypt, TlsAeadCipherImpl decrypt, int keySize, int macSize)
        : TlsAeadCipher(cryptoParams, encrypt, decrypt, keySize, macSize, AEAD_GCM)
    {
        // A TLS 1.3 record header and the most it may carry (RFC 8446 5.2: 2^14 + 256).
        private readonly byte[] _sealed = new byte[5 + 16384 + 256];
        private readonly byte[] _nonce = new byte[12];
        private readonly byte[] _additionalData = new byte[5];

        public override TlsEncodeResult EncodePlaintext(long seqNo, short contentType, ProtocolVersion recordVersion, int headerAllocation, ReadOnlySpan<byte> plaintext)
        {
            // TLSInnerPlaintext (RFC 8446 5.2): the content, then its type, no padding.
            var inner = plaintext.Length + 1;
            var total = headerAllocation + inner + AesGcmTagSize;
            if (!m_isTlsV13 || m_record_iv_length != 0 || !m_encryptUseInnerPlaintext || m_encryptNonce.Length != _nonce.Length || total > _sealed.Length)
            {
                return base.EncodePlaintext(seqNo, contentType, recordVersion, headerAllocation, plaintext);
            }

            // The per-record nonce (5.3): the write IV XOR the sequence number, left-padded to the IV's length.
            m_encryptNonce.CopyTo(_nonce, 0);
            for (var i = 0; i < 8; i++)
            {
                _nonce[_nonce.Length - 1 - i] ^= (byte)(seqNo >> (8 * i));
            }

            m_encryptCipher.Init(_nonce, m_macSize, null);
            plaintext.CopyTo(_sealed.AsSpan(headerAllocation));
            _sealed[headerAllocation + plaintext.Length] = (byte)contentType;
            var additionalData = GetAdditionalData(seqNo, ContentType.application_data, recordVersion, inner + AesGcmTagSize, inner);
            int written;
            try
            {
                written = m_encryptCipher.DoFinal(additionalData, _sealed, headerAllocation, inner, _sealed, headerAllocation);
            }
            catch (Exception e) when (e is not IOException)
            {
                throw new TlsFatalAlert(AlertDescription.internal_error, e);
            }

            if (written != inner + AesGcmTagSize)
            {
                throw new TlsFatalAlert(AlertDescription.internal_error);
            }

            return new TlsEncodeResult(_sealed, 0, total, ContentType.application_data);
        }

        protected override byte[] GetAdditionalData(long seqNo, short recordType, ProtocolVersion recordVersion, int ciphertextLength, int plaintextLength)
        {
            if (!m_isTlsV13)
            {
                return base.GetAdditionalData(seqNo, recordType, recordVersion, ciphertextLength, plaintextLength);
            }

            // The record header (5.2: opaque_type, legacy_record_version, length), used before the next is made.
            _additionalData[0] = (byte)recordType;
            _additionalData[1] = (byte)recordVersion.MajorVersion;
            _additionalData[2] = (byte)recordVersion.MinorVersion;
            _additionalData[3] = (byte)(ciphertextLength >> 8);
            _additionalData[4] = (byte)ciphertextLength;
            return _additionalData;
        }
    }

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
