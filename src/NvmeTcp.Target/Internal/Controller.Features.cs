namespace NvmeTcp.Target.Internal;

/// <summary>
/// The features NVMe Base 2.0 makes mandatory for an I/O controller that have no behaviour here but must be readable and
/// settable (Figure "Feature Identifiers", M for I/O controllers): Arbitration, Power Management, Temperature
/// Threshold, Error Recovery and Write Atomicity Normal (the last two defined by the NVM Command Set), and Volatile
/// Write Cache, mandatory since Identify reports a cache. nvmet answers Invalid Field for most of these (an #if 0 in
/// nvmet_execute_get_features); values set are kept and read back.
/// </summary>
internal sealed partial class Controller
{
    /// <summary>FID 01h.</summary>
    public const byte FeatureArbitration = 0x01;

    /// <summary>FID 02h.</summary>
    public const byte FeaturePowerManagement = 0x02;

    /// <summary>FID 04h.</summary>
    public const byte FeatureTemperatureThreshold = 0x04;

    /// <summary>FID 05h.</summary>
    public const byte FeatureErrorRecovery = 0x05;

    /// <summary>FID 06h.</summary>
    public const byte FeatureVolatileWriteCache = 0x06;

    /// <summary>FID 0Ah.</summary>
    public const byte FeatureWriteAtomicityNormal = 0x0A;

    // Temperature Threshold: the composite sensor's over-temperature threshold (343 K, 70 °C), and no under threshold.
    private const uint DefaultOverTemperatureKelvin = 343;

    private readonly Dictionary<uint, uint> _features = [];
    private bool _writeCacheEnabled = true;

    /// <summary>Volatile Write Cache WCE: while false, writes to a file namespace are flushed before they complete.</summary>
    public bool WriteCacheEnabled
    {
        get
        {
            lock (_sync)
            {
                return _writeCacheEnabled;
            }
        }
    }

    /// <summary>Get Features of one of these features; null when <paramref name="fid"/> is not one of them.</summary>
    public uint? GetSimpleFeature(byte fid, uint cdw11)
    {
        lock (_sync)
        {
            return fid switch
            {
                FeatureArbitration or FeaturePowerManagement or FeatureErrorRecovery or FeatureWriteAtomicityNormal => _features.GetValueOrDefault(fid),
                FeatureVolatileWriteCache => _writeCacheEnabled ? 1u : 0u,
                FeatureTemperatureThreshold => _features.TryGetValue(TemperatureKey(cdw11), out var t) ? t : DefaultThreshold(cdw11),
                _ => null,
            };
        }
    }

    /// <summary>Set Features of one of these features: null when not one of them, false when the value is not supported.</summary>
    public bool? SetSimpleFeature(byte fid, uint cdw11)
    {
        lock (_sync)
        {
            switch (fid)
            {
                case FeatureArbitration or FeatureErrorRecovery or FeatureWriteAtomicityNormal:
                    _features[fid] = cdw11;
                    return true;
                case FeaturePowerManagement:
                    // One power state (NPSS 0): PS must be 0; the workload hint (bits 7:5) is kept.
                    if ((cdw11 & 0x1F) != 0)
                    {
                        return false;
                    }

                    _features[fid] = cdw11 & 0xFF;
                    return true;
                case FeatureVolatileWriteCache:
                    _writeCacheEnabled = (cdw11 & 1) != 0;
                    return true;
                case FeatureTemperatureThreshold:
                    // TMPTH bits 15:0, TMPSEL 19:16 (0 composite, 1-8 sensors), THSEL 21:20 (0 over, 1 under).
                    if (((cdw11 >> 20) & 0x3) > 1 || ((cdw11 >> 16) & 0xF) > 8)
                    {
                        return false;
                    }

                    _features[TemperatureKey(cdw11)] = cdw11 & 0xFFFF;
                    return true;
                default:
                    return null;
            }
        }
    }

    // One threshold per (TMPSEL, THSEL), kept apart from the other FIDs' keys.
    private static uint TemperatureKey(uint cdw11) => 0x100u | ((cdw11 >> 16) & 0x3F);

    private static uint DefaultThreshold(uint cdw11) => ((cdw11 >> 20) & 0x3) == 0 ? DefaultOverTemperatureKelvin : 0;
}
