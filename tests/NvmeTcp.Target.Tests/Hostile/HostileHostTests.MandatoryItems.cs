using System.Buffers.Binary;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>
    /// Defect 15: what NVMe Base 2.0 makes mandatory for an I/O controller (or expected, given what Identify reports)
    /// is served: log pages 00h (Supported Log Pages) and 03h (Firmware Slot Information), Identify CNS 06h with CSI 0
    /// (I/O command set specific controller data), and Get Features of the mandatory features, Volatile Write Cache
    /// (06h) included since Identify reports one.
    /// </summary>
    [Fact]
    public async Task Mandatory_log_pages_identify_and_features_are_served()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;

        var (firmware, slots) = await admin.ExecuteAsync(GetLogPageCommand.Create(LogPageId.FirmwareSlot, 512, 0xFFFFFFFF));
        Assert.True(firmware.Status.IsSuccess, firmware.Status.ToString());
        Assert.Equal(512, slots.Length);
        Assert.Equal(1, slots[0] & 0x7); // AFI: slot 1 active

        var (supported, pages) = await admin.ExecuteAsync(GetLogPageCommand.Create(0x00, 1024));
        Assert.True(supported.Status.IsSuccess, supported.Status.ToString());
        foreach (var lid in new[] { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05 })
        {
            Assert.True((BinaryPrimitives.ReadUInt32LittleEndian(pages.AsSpan(lid * 4)) & 1) != 0, $"LSUPP of log {lid:X2}h");
        }

        var (nvm, data) = await admin.ExecuteAsync(IdentifyCommand.Create(0x06, commandSetId: 0));
        Assert.True(nvm.Status.IsSuccess, nvm.Status.ToString());
        Assert.Equal(4096, data.Length);
        var (otherSet, _) = await admin.ExecuteAsync(IdentifyCommand.Create(0x06, commandSetId: 0x02));
        StatusAssert.Is(StatusCodes.InvalidField, otherSet, dnr: true);

        // Arbitration, Power Management, Temperature Threshold, Error Recovery, Volatile Write Cache, Write Atomicity Normal.
        foreach (var fid in new byte[] { 0x01, 0x02, 0x04, 0x05, 0x06, 0x0A })
        {
            var (get, _) = await admin.ExecuteAsync(FeatureCommands.Get(fid));
            Assert.True(get.Status.IsSuccess, $"Get Features {fid:X2}h: {get.Status}");
        }

        var (cache, _) = await admin.ExecuteAsync(FeatureCommands.Get(0x06));
        Assert.Equal(1u, cache.Dw0 & 1); // WCE: the cache Identify reports is enabled
    }
}
