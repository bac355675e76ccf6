/**
 * How many connections the shared Aurora PostgreSQL cluster accepts.
 *
 * Aurora PostgreSQL's default parameter group sets `max_connections` to `LEAST({DBInstanceClassMemory/9531392}, 5000)`
 * (Aurora User Guide, "Maximum connections to an Aurora PostgreSQL DB instance"). For Serverless v2 the memory is
 * that of the maximum capacity, about 2 GiB per ACU ("Aurora Serverless v2 capacity"); since DBInstanceClassMemory is
 * the instance memory less what the OS and RDS processes keep, we count 90% of nominal memory so the guard errs on
 * the safe side.
 */

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

export function sharedConnectionCapacity(db: { maxCapacity?: number; instanceClass?: string; reservedConnections: number }): ConnectionCapacity {
    let memoryGib: number;
    let basis: string;
    if (db.instanceClass) {
        const known = INSTANCE_CLASS_MEMORY_GIB[db.instanceClass];
        // An unknown class is sized as the smallest supported one rather than guessed upwards.
        memoryGib = known ?? 4;
        basis = known ? `${db.instanceClass} (${known} GiB)` : `${db.instanceClass} (unknown class, assumed 4 GiB)`;
    } else {
        memoryGib = (db.maxCapacity ?? 1) * 2;
        basis = `Serverless v2 at ${db.maxCapacity} ACU (${memoryGib} GiB)`;
    }
    const maxConnections = maxConnectionsForMemory(memoryGib);
    return { maxConnections, reserved: db.reservedConnections, available: Math.max(0, maxConnections - db.reservedConnections), basis };
}
