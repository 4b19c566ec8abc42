using System.CommandLine;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>resv-register</c>, <c>resv-acquire</c>, <c>resv-release</c> and <c>resv-report</c>, as nvme-cli's (long option names; -n is the NQN here).</summary>
internal static class ReservationVerbs
{
    public static Command Register()
    {
        var namespaceId = CommonOptions.NamespaceId();
        var crkey = NumberOption.UInt64("--crkey", "CRKEY: the current reservation key (unregister, replace).", 0);
        var nrkey = NumberOption.UInt64("--nrkey", "NRKEY: the new reservation key (register, replace).", 0);
        var rrega = NumberOption.UInt32("--rrega", "RREGA: 0 register, 1 unregister, 2 replace.", 0);
        var iekey = new Option<bool>("--iekey") { Description = "IEKEY: ignore the existing key." };
        return ControllerVerb.Create(
            "resv-register",
            "Reservation Register: register, unregister or replace this host's reservation key on a namespace.",
            defaultIoQueues: 1,
            [namespaceId, crkey, nrkey, rrega, iekey],
            async (context, controller, cancellationToken) =>
            {
                var action = context.GetValue(rrega);
                if (action > 2)
                {
                    throw new CliException($"--rrega must be 0, 1 or 2, not {action}");
                }

                var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
                await controller.NextIoQueue().RegisterReservationKeyAsync(ns, (ReservationRegisterAction)action, context.GetValue(crkey), context.GetValue(nrkey), context.GetValue(iekey), cancellationToken).ConfigureAwait(false);
                return await SuccessAsync(context, "resv-register").ConfigureAwait(false);
            });
    }

    public static Command Acquire()
    {
        var namespaceId = CommonOptions.NamespaceId();
        var crkey = NumberOption.UInt64("--crkey", "CRKEY: this host's reservation key.", 0);
        var prkey = NumberOption.UInt64("--prkey", "PRKEY: the key of the registrants to preempt.", 0);
        var rtype = NumberOption.UInt32("--rtype", "RTYPE: 1 write exclusive, 2 exclusive access, 3/4 registrants only, 5/6 all registrants.", 1);
        var racqa = NumberOption.UInt32("--racqa", "RACQA: 0 acquire, 1 preempt, 2 preempt and abort.", 0);
        var iekey = new Option<bool>("--iekey") { Description = "IEKEY: ignore the existing key." };
        return ControllerVerb.Create(
            "resv-acquire",
            "Reservation Acquire: acquire or preempt a reservation on a namespace.",
            defaultIoQueues: 1,
            [namespaceId, crkey, prkey, rtype, racqa, iekey],
            async (context, controller, cancellationToken) =>
            {
                var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
                await controller.NextIoQueue().AcquireReservationAsync(ns, (ReservationAcquireAction)Check(context.GetValue(racqa), 2, "--racqa"), (ReservationType)Check(context.GetValue(rtype), 6, "--rtype"), context.GetValue(crkey), context.GetValue(prkey), context.GetValue(iekey), cancellationToken).ConfigureAwait(false);
                return await SuccessAsync(context, "resv-acquire").ConfigureAwait(false);
            });
    }

    public static Command Release()
    {
        var namespaceId = CommonOptions.NamespaceId();
        var crkey = NumberOption.UInt64("--crkey", "CRKEY: this host's reservation key.", 0);
        var rtype = NumberOption.UInt32("--rtype", "RTYPE of the reservation held.", 1);
        var rrela = NumberOption.UInt32("--rrela", "RRELA: 0 release, 1 clear.", 0);
        var iekey = new Option<bool>("--iekey") { Description = "IEKEY: ignore the existing key." };
        return ControllerVerb.Create(
            "resv-release",
            "Reservation Release: release the reservation held, or clear every registration.",
            defaultIoQueues: 1,
            [namespaceId, crkey, rtype, rrela, iekey],
            async (context, controller, cancellationToken) =>
            {
                var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
                await controller.NextIoQueue().ReleaseReservationAsync(ns, (ReservationReleaseAction)Check(context.GetValue(rrela), 1, "--rrela"), (ReservationType)Check(context.GetValue(rtype), 6, "--rtype"), context.GetValue(crkey), context.GetValue(iekey), cancellationToken).ConfigureAwait(false);
                return await SuccessAsync(context, "resv-release").ConfigureAwait(false);
            });
    }

    public static Command Report()
    {
        var namespaceId = CommonOptions.NamespaceId();
        return ControllerVerb.Create(
            "resv-report",
            "Reservation Report (extended data, 128-bit host IDs): the registrants and the reservation of a namespace.",
            defaultIoQueues: 1,
            [namespaceId],
            async (context, controller, cancellationToken) =>
            {
                var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
                var report = await controller.NextIoQueue().GetReservationReportAsync(ns, cancellationToken).ConfigureAwait(false);
                await context.PrintAsync(
                    writer =>
                    {
                        writer.WriteNumber("gen", report.Generation);
                        writer.WriteNumber("rtype", (int)report.Type);
                        writer.WriteNumber("regctl", report.RegisteredControllers);
                        writer.WriteNumber("ptpls", report.PersistThroughPowerLoss ? 1 : 0);
                        writer.WriteStartArray("regctlext");
                        foreach (var r in report.Registrants)
                        {
                            writer.WriteStartObject();
                            writer.WriteNumber("cntlid", r.ControllerId);
                            writer.WriteNumber("rcsts", r.HoldsReservation ? 1 : 0);
                            writer.WriteNumber("rkey", r.Key);
                            writer.WriteString("hostid", r.HostId.ToString("N"));
                            writer.WriteEndObject();
                        }

                        writer.WriteEndArray();
                    },
                    () => $"NVME Reservation status:{Environment.NewLine}{Environment.NewLine}gen       : {report.Generation}{Environment.NewLine}rtype     : {(int)report.Type}{Environment.NewLine}regctl    : {report.RegisteredControllers}{Environment.NewLine}ptpls     : {(report.PersistThroughPowerLoss ? 1 : 0)}{Environment.NewLine}"
                        + string.Concat(report.Registrants.Select((r, i) => $"regctlext[{i}] :{Environment.NewLine}  cntlid  : {r.ControllerId:x}{Environment.NewLine}  rcsts   : {(r.HoldsReservation ? 1 : 0)}{Environment.NewLine}  rkey    : {r.Key:x}{Environment.NewLine}  hostid  : {r.HostId:N}{Environment.NewLine}"))).ConfigureAwait(false);
                return ExitCodes.Ok;
            });
    }

    private static uint Check(uint value, uint max, string name) => value <= max ? value : throw new CliException($"{name} must be 0 to {max}, not {value}");

    private static async Task<int> SuccessAsync(CliContext context, string verb)
    {
        await context.PrintAsync(writer => writer.WriteString("result", "success"), () => $"NVME {verb}: Success{Environment.NewLine}").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
