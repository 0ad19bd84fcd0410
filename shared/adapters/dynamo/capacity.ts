import type { AttributeValue, ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tableDefinition } from './table.ts';

/**
 * Counts the capacity units a DynamoDBClient consumes. `attachCapacityMeter` adds a middleware that
 * asks for `ReturnConsumedCapacity: 'TOTAL'` on every command that accepts it and sums what the
 * responses report. It also computes write units from the request items with DynamoDB's rule
 * (ceil(item size / 1 KB) per item written, the same again for the sparse GSI when the item carries
 * its keys, 1 per delete or update): moto reports placeholder figures (1 per call, whatever the size),
 * so benchmarks that must mean something on every back end read `estimatedWriteUnits`.
 */
export interface CapacityMeter {
  /** Read units reported by the back end. */
  readonly readUnits: number;
  /** Write units reported by the back end; estimated for any write whose response reported none. */
  readonly writeUnits: number;
  /** Write units computed from the request items (see above), for successful writes. */
  readonly estimatedWriteUnits: number;
  /** Successful commands that accept ReturnConsumedCapacity but whose response carried none. */
  readonly unreportedCommands: number;
  /**
   * `estimatedWriteUnits` and the items written, by kind of item (the sort key up to its first `#`:
   * STATE, CHG, BASE, TASK…): where the write units go.
   */
  readonly writesByKind: ReadonlyMap<string, { units: number; items: number }>;
  /** Reported read units and read commands by kind of item read (an index's name for its queries). */
  readonly readsByKind: ReadonlyMap<string, { units: number; items: number }>;
  reset(): void;
  /** Removes the middleware from the client. */
  detach(): void;
}

const readCommands = new Set([
  'GetItemCommand',
  'BatchGetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'TransactGetItemsCommand',
]);
const writeCommands = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);
/** Accept ReturnConsumedCapacity but may read or write. */
const statementCommands = new Set([
  'ExecuteStatementCommand',
  'BatchExecuteStatementCommand',
  'ExecuteTransactionCommand',
]);

let meterCount = 0;

export function attachCapacityMeter(client: DynamoDBClient): CapacityMeter {
  let readUnits = 0;
  let writeUnits = 0;
  let estimatedWriteUnits = 0;
  let unreportedCommands = 0;
  const writesByKind = new Map<string, { units: number; items: number }>();
  const readsByKind = new Map<string, { units: number; items: number }>();
  meterCount += 1;
  const name = `followbackCapacityMeter${meterCount}`;

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      const isRead = readCommands.has(command);
      const isWrite = writeCommands.has(command);
      if (!isRead && !isWrite && !statementCommands.has(command)) return next(args);
      const input = args.input as Record<string, unknown>;
      const wanted = input.ReturnConsumedCapacity;
      const sent =
        wanted === 'TOTAL' || wanted === 'INDEXES'
          ? args
          : { ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } };
      const result = await next(sent as typeof args);
      const output = result.output as unknown as Record<string, unknown>;
      const written = isWrite ? estimateWrites(command, input, output) : [];
      let estimate = 0;
      for (const write of written) {
        estimate += write.units;
        const entry = writesByKind.get(write.kind) ?? { units: 0, items: 0 };
        writesByKind.set(write.kind, { units: entry.units + write.units, items: entry.items + 1 });
      }
      estimatedWriteUnits += estimate;
      const reported = reportedUnits(
        output.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[] | undefined,
      );
      if (reported === undefined) {
        unreportedCommands += 1;
        writeUnits += estimate;
      } else if (reported.split) {
        readUnits += reported.read;
        writeUnits += reported.write;
      } else if (isWrite) {
        writeUnits += reported.total;
      } else {
        readUnits += reported.total;
        const kind = readKind(input);
        const entry = readsByKind.get(kind) ?? { units: 0, items: 0 };
        readsByKind.set(kind, { units: entry.units + reported.total, items: entry.items + 1 });
      }
      return result;
    },
    { step: 'initialize', name },
  );

  return {
    get readUnits() {
      return readUnits;
    },
    get writeUnits() {
      return writeUnits;
    },
    get estimatedWriteUnits() {
      return estimatedWriteUnits;
    },
    get unreportedCommands() {
      return unreportedCommands;
    },
    get writesByKind() {
      return writesByKind;
    },
    get readsByKind() {
      return readsByKind;
    },
    reset() {
      writesByKind.clear();
      readsByKind.clear();
      readUnits = 0;
      writeUnits = 0;
      estimatedWriteUnits = 0;
      unreportedCommands = 0;
    },
    detach() {
      client.middlewareStack.remove(name);
    },
  };
}

interface Reported {
  total: number;
  read: number;
  write: number;
  /** The response split read and write units (transactions, statements). */
  split: boolean;
}

/** `ConsumedCapacity` is an object (single-item commands, queries) or an array (batches). */
function reportedUnits(consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): Reported | undefined {
  if (consumed === undefined || consumed === null) return undefined;
  const list = Array.isArray(consumed) ? consumed : [consumed];
  const sum: Reported = { total: 0, read: 0, write: 0, split: false };
  for (const entry of list) {
    sum.total += entry.CapacityUnits ?? 0;
    if (entry.ReadCapacityUnits !== undefined || entry.WriteCapacityUnits !== undefined) {
      sum.split = true;
      sum.read += entry.ReadCapacityUnits ?? 0;
      sum.write += entry.WriteCapacityUnits ?? 0;
    }
  }
  if (sum.split) {
    // A response may split some entries and not others: give unsplit units to neither silently.
    const unsplit = sum.total - sum.read - sum.write;
    if (unsplit > 0) sum.write += unsplit;
  }
  return sum;
}

type Item = Record<string, AttributeValue>;
interface WriteRequestShape {
  PutRequest?: { Item?: Item };
  DeleteRequest?: { Key?: Item };
}

interface ItemWrite {
  kind: string;
  units: number;
}

function estimateWrites(
  command: string,
  input: Record<string, unknown>,
  output: Record<string, unknown>,
): ItemWrite[] {
  switch (command) {
    case 'PutItemCommand':
      return [putWrite(input.Item as Item | undefined)];
    case 'BatchWriteItemCommand': {
      const requested = batchWrites(input.RequestItems as Record<string, WriteRequestShape[]> | undefined);
      const unprocessed = batchWrites(
        output.UnprocessedItems as Record<string, WriteRequestShape[]> | undefined,
      );
      for (const left of unprocessed) {
        const at = requested.findIndex((write) => write.kind === left.kind && write.units === left.units);
        if (at >= 0) requested.splice(at, 1);
      }
      return requested;
    }
    case 'TransactWriteItemsCommand': {
      const items = (input.TransactItems as { Put?: { Item?: Item } }[] | undefined) ?? [];
      return items.map((entry) => {
        const write = entry.Put ? putWrite(entry.Put.Item) : { kind: 'other', units: 1 };
        return { kind: write.kind, units: 2 * write.units };
      });
    }
    default:
      // DeleteItem, UpdateItem: the stored item's size is unknown here; 1 is the minimum charged.
      return [{ kind: kindOf(input.Key as Item | undefined), units: 1 }];
  }
}

function batchWrites(requests: Record<string, WriteRequestShape[]> | undefined): ItemWrite[] {
  const writes: ItemWrite[] = [];
  for (const list of Object.values(requests ?? {})) {
    for (const request of list) {
      writes.push(
        request.PutRequest
          ? putWrite(request.PutRequest.Item)
          : { kind: kindOf(request.DeleteRequest?.Key), units: 1 },
      );
    }
  }
  return writes;
}

function putWrite(item: Item | undefined): ItemWrite {
  return { kind: kindOf(item), units: putUnits(item) };
}

/** What a read command reads: the key's kind, an index's name, or a query's sort-key bound. */
function readKind(input: Record<string, unknown>): string {
  if (typeof input.IndexName === 'string') return input.IndexName;
  if (input.Key !== undefined) return kindOf(input.Key as Item);
  const batch = input.RequestItems as Record<string, { Keys?: Item[] }> | undefined;
  const firstKey = Object.values(batch ?? {})[0]?.Keys?.[0];
  if (firstKey !== undefined) return kindOf(firstKey);
  const values = (input.ExpressionAttributeValues ?? {}) as Item;
  const bound = Object.entries(values).find(([name, value]) => name !== ':pk' && value.S !== undefined);
  return bound ? kindOf({ sk: { S: bound[1].S ?? '' } }) : 'other';
}

/** The sort key up to its first `#` (STATE, CHG, BASE, TASK…). */
function kindOf(item: Item | undefined): string {
  const sk = item?.sk?.S;
  return sk === undefined ? 'other' : (sk.split('#')[0] ?? sk);
}

function putUnits(item: Item | undefined): number {
  if (item === undefined) return 1;
  const units = Math.max(1, Math.ceil(itemSize(item) / 1024));
  const indexed = tableDefinition.globalSecondaryIndexes.filter(
    (index) => item[index.partitionKey.name] !== undefined && item[index.sortKey.name] !== undefined,
  ).length;
  return units * (1 + indexed);
}

const utf8 = new TextEncoder();

/** Item size by DynamoDB's documented rules (names + values; 3 bytes + 1 per element for L and M). */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8.encode(name).length + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8.encode(value.S).length;
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8.encode(s).length, 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.length, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.M !== undefined) return 3 + Object.keys(value.M).length + itemSize(value.M);
  return 0;
}

/** Numbers take about one byte per two significant digits, plus one. */
function numberSize(n: string): number {
  const digits = n.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}
