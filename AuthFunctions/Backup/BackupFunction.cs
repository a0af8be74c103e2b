namespace AuthFunctions.Backup;

/// <summary>
/// The <c>backup</c> timer: exports the app's tables (<c>users</c>, <c>emails</c>, <c>revocations</c>) to the backup blob
/// container. The schedule is the <c>Backup__Schedule</c> setting (NCRONTAB; daily in the sample settings and the Bicep);
/// no RunOnStartup, which would fire on every scale-out. <c>scripts/restore-backup</c> restores an export.
/// </summary>
public sealed class BackupFunction(BackupService backup)
{
    [Function("backup")]
    public async Task Run([TimerTrigger("%Backup:Schedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        await backup.RunAsync(cancellationToken);
    }
}
