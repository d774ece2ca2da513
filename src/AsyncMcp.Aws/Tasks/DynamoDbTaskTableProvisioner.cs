using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace AsyncMcp.Aws.Tasks;

/// <summary>
/// Creates the DynamoDB table of a <see cref="DynamoDbTaskStore"/> (partition key <c>taskId</c>, on-demand capacity)
/// and turns on its TTL on <c>expiresAt</c>, so that DynamoDB deletes expired tasks. Idempotent: a table that is
/// already there is checked and kept. Needs <c>dynamodb:CreateTable</c>, <c>dynamodb:DescribeTable</c>,
/// <c>dynamodb:DescribeTimeToLive</c> and <c>dynamodb:UpdateTimeToLive</c>.
/// </summary>
/// <param name="dynamo">The DynamoDB client; the caller disposes it.</param>
/// <param name="timeProvider">The clock for waiting until the table is active; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
public sealed class DynamoDbTaskTableProvisioner(IAmazonDynamoDB dynamo, TimeProvider? timeProvider = null)
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(250);

    private readonly TimeProvider _timeProvider = timeProvider ?? TimeProvider.System;

    /// <summary>How long to wait for a new table to become active. Default 5 minutes.</summary>
    public TimeSpan ActiveTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Creates the table if it does not exist, waits until it is active and makes sure its TTL is on.</summary>
    /// <param name="tableName">The table name (<see cref="DynamoDbTaskStoreOptions.TableName"/>).</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>The table's ARN.</returns>
    /// <exception cref="ArgumentException">The table name is not valid; the message names the option.</exception>
    /// <exception cref="InvalidOperationException">A table of that name exists with another key, or TTL is on for another attribute.</exception>
    /// <exception cref="TimeoutException">The table did not become active within <see cref="ActiveTimeout"/>.</exception>
    public async Task<string> EnsureTableAsync(string tableName, CancellationToken cancellationToken = default)
    {
        new DynamoDbTaskStoreOptions { TableName = tableName }.Validate();
        var table = await DescribeOrNullAsync(tableName, cancellationToken).ConfigureAwait(false);
        if (table is null)
        {
            try
            {
                await dynamo.CreateTableAsync(
                    new CreateTableRequest
                    {
                        TableName = tableName,
                        AttributeDefinitions = [new AttributeDefinition(TaskTableLayout.TaskId, ScalarAttributeType.S)],
                        KeySchema = [new KeySchemaElement(TaskTableLayout.TaskId, KeyType.HASH)],
                        BillingMode = BillingMode.PAY_PER_REQUEST,
                    },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (ResourceInUseException)
            {
                // Another provisioner created it a moment ago.
            }
        }
        else
        {
            CheckKey(table);
        }

        table = await WaitUntilActiveAsync(tableName, cancellationToken).ConfigureAwait(false);
        await EnsureTimeToLiveAsync(tableName, cancellationToken).ConfigureAwait(false);
        return table.TableArn;
    }

    private async Task EnsureTimeToLiveAsync(string tableName, CancellationToken cancellationToken)
    {
        var ttl = (await dynamo.DescribeTimeToLiveAsync(new DescribeTimeToLiveRequest { TableName = tableName }, cancellationToken).ConfigureAwait(false)).TimeToLiveDescription;
        var status = ttl?.TimeToLiveStatus;
        if (status == TimeToLiveStatus.ENABLED || status == TimeToLiveStatus.ENABLING)
        {
            if (ttl!.AttributeName != TaskTableLayout.ExpiresAt)
            {
                throw new InvalidOperationException(
                    $"The DynamoDB table '{tableName}' has TTL on attribute '{ttl.AttributeName}'; task tables expire tasks on '{TaskTableLayout.ExpiresAt}'.");
            }

            return;
        }

        // DynamoDB refuses to turn TTL on while it is being turned off; that settles within an hour, and provisioning again then succeeds.
        await dynamo.UpdateTimeToLiveAsync(
            new UpdateTimeToLiveRequest
            {
                TableName = tableName,
                TimeToLiveSpecification = new TimeToLiveSpecification { AttributeName = TaskTableLayout.ExpiresAt, Enabled = true },
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<TableDescription> WaitUntilActiveAsync(string tableName, CancellationToken cancellationToken)
    {
        var deadline = _timeProvider.GetUtcNow() + ActiveTimeout;
        while (true)
        {
            var table = await DescribeOrNullAsync(tableName, cancellationToken).ConfigureAwait(false);
            if (table?.TableStatus == TableStatus.ACTIVE)
            {
                return table;
            }

            if (_timeProvider.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"The DynamoDB table '{tableName}' did not become active within {ActiveTimeout} (status {table?.TableStatus?.Value ?? "missing"}).");
            }

            await Task.Delay(s_pollInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<TableDescription?> DescribeOrNullAsync(string tableName, CancellationToken cancellationToken)
    {
        try
        {
            return (await dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = tableName }, cancellationToken).ConfigureAwait(false)).Table;
        }
        catch (ResourceNotFoundException)
        {
            return null;
        }
    }

    private static void CheckKey(TableDescription table)
    {
        var key = table.KeySchema ?? [];
        if (key.Count != 1 || key[0].AttributeName != TaskTableLayout.TaskId || key[0].KeyType != KeyType.HASH)
        {
            throw new InvalidOperationException(
                $"The DynamoDB table '{table.TableName}' exists with another key ({string.Join(", ", key.Select(k => $"{k.AttributeName} {k.KeyType}"))}); a task table has the partition key '{TaskTableLayout.TaskId}' alone.");
        }
    }
}
