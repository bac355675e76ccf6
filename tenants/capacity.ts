/**
 * How many connections the shared Aurora PostgreSQL cluster accepts.
 *
 * Provisioned instances: the default parameter group sets `max_connections` to
 * `LEAST({DBInstanceClassMemory/9531392}, 5000)` (Aurora User Guide, "Maximum connections to an Aurora PostgreSQL DB
 * instance"); DBInstanceClassMemory is the class memory less what the OS and RDS keep, so we count 90% of it.
 *
 * Serverless v2: `max_connections` follows the memory of the MAXIMUM capacity (Aurora User Guide, "Maximum connections
 * for Aurora Serverless v2": 189 at 1 ACU, 823 at 4, 1669 at 8, 3360 at 16, 5000 from 32), which is linear in ACUs
 * below the 5000 ceiling; with a minimum capacity of 0 or 0.5 ACU it is capped at 2000.
 */

/** Connections a shared tenant's owner role (migrations) may hold; counted with its runtime limit. */
export const OWNER_CONNECTION_LIMIT = 5;
/** Connections the platform's reporting role may hold; part of the platform reserve. */
export const REPORTING_CONNECTION_LIMIT = 10;
/**
 * Connections the schema dump job's role may hold; part of the platform reserve. It uses two at once (a snapshot session
 * and pg_dump), and the previous tenant's two may still be ending: a backend counts until it has exited, after its client.
 */
export const BACKUP_CONNECTION_LIMIT = 4;

const GIB = 1024 ** 3;
const BYTES_PER_CONNECTION = 9_531_392;
const CEILING = 5000;
const USABLE_FRACTION = 0.9;

/** Memory (GiB) of the Aurora PostgreSQL instance classes a shared cluster would use. */
export const INSTANCE_CLASS_MEMORY_GIB: Readonly<Record<string, number>> = {
    "db.t3.medium": 4, "db.t3.large": 8, "db.t4g.medium": 4, "db.t4g.large": 8,
    "db.r5.large": 16, "db.r5.xlarge": 32, "db.r5.2xlarge": 64, "db.r5.4xlarge": 128, "db.r5.8xlarge": 256,
    "db.r6g.large": 16, "db.r6g.xlarge": 32, "db.r6g.2xlarge": 64, "db.r6g.4xlarge": 128, "db.r6g.8xlarge": 256,
    "db.r6i.large": 16, "db.r6i.xlarge": 32, "db.r6i.2xlarge": 64, "db.r6i.4xlarge": 128, "db.r6i.8xlarge": 256,
    "db.r7g.large": 16, "db.r7g.xlarge": 32, "db.r7g.2xlarge": 64, "db.r7g.4xlarge": 128, "db.r7g.8xlarge": 256,
    "db.r8g.large": 16, "db.r8g.xlarge": 32, "db.r8g.2xlarge": 64, "db.r8g.4xlarge": 128, "db.r8g.8xlarge": 256,
};

export interface ConnectionCapacity {
    maxConnections: number;
    reserved: number;
    /** What tenants may use: max_connections less the platform's reserve. */
    available: number;
    /** Human description of what the number was derived from. */
    basis: string;
}

export function maxConnectionsForMemory(memoryGib: number): number {
    return Math.min(Math.floor((memoryGib * GIB * USABLE_FRACTION) / BYTES_PER_CONNECTION), CEILING);
}

/** Documented points (1 ACU → 189, 16 ACU → 3360) give 211.4 connections per ACU less 22.4. */
export function serverlessMaxConnections(minCapacity: number, maxCapacity: number): number {
    const byMemory = Math.min(Math.floor(211.4 * maxCapacity - 22.4), CEILING);
    return minCapacity <= 0.5 ? Math.min(byMemory, 2000) : byMemory;
}

export function sharedConnectionCapacity(db: { minCapacity?: number; maxCapacity?: number; instanceClass?: string; reservedConnections: number }): ConnectionCapacity {
    let maxConnections: number;
    let basis: string;
    if (db.instanceClass) {
        const known = INSTANCE_CLASS_MEMORY_GIB[db.instanceClass];
        // An unknown class is sized as the smallest supported one rather than guessed upwards.
        maxConnections = maxConnectionsForMemory(known ?? 4);
        basis = known ? `${db.instanceClass} (${known} GiB)` : `${db.instanceClass} (unknown class, assumed 4 GiB)`;
    } else {
        const min = db.minCapacity ?? 0.5;
        const max = db.maxCapacity ?? 1;
        maxConnections = serverlessMaxConnections(min, max);
        basis = `Serverless v2 at ${min}-${max} ACU`;
    }
    return { maxConnections, reserved: db.reservedConnections, available: Math.max(0, maxConnections - db.reservedConnections), basis };
}
