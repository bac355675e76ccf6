/** Refreshing cost/prices.json from Price List offer files: on a fixture of the format (tests/cost/offers), never the network. */
import * as path from "path";
import { describe, expect, it } from "vitest";
import { committedPrices, priceTableProblems } from "../../cost/prices";
import { readOffers, refreshTable, usageOf } from "../../cost/refresh";

const OFFERS = path.join(__dirname, "offers");

describe("npm run cost:refresh: prices from AWS Price List offer files", () => {
    const old = committedPrices();
    const offers = readOffers(OFFERS, Object.keys(old.regions));
    const { table, reports } = refreshTable(old, offers, "2026-12-01");
    const us = table.regions["us-east-1"]!;

    it("reads the fixture's files of us-east-1 only (other regions have none)", () => {
        expect(Object.keys(offers)).toEqual(["us-east-1"]);
        expect(Object.keys(offers["us-east-1"]!).sort()).toEqual(["AmazonEC2", "AmazonECS", "AmazonRDS"]);
        expect(reports.map((r) => r.region)).toEqual(["us-east-1"]);
    });

    it("takes the on-demand price of the matching product: PostgreSQL Single-AZ, gp3, Aurora Standard (not I/O-Optimized), per-million I/O, NAT", () => {
        expect(us.rdsInstanceHour["db.r6g.large"]).toBe(0.23);
        // A class the table lacked is added (it is of a family the table carries); MySQL and Multi-AZ products are not read.
        expect(us.rdsInstanceHour["db.r7g.large"]).toBe(0.239);
        expect(us.rdsStorageGbMonth.gp3).toBe(0.12);
        expect(us.auroraAcuHour).toBe(0.125);
        expect(us.auroraInstanceHour["db.r6g.large"]).toBe(0.27);
        expect(us.auroraStorageGbMonth).toBe(0.105);
        expect(us.auroraIoPerMillion).toBe(0.21);
        expect(us.natHour).toBe(0.046);
        expect(us.natGb).toBe(0.046);
        expect(us.fargateVcpuHour).toBe(0.041);
    });

    it("a price stated twice with different values, and prices the files lack, keep their old value and are reported", () => {
        const r = reports[0]!;
        expect(us.fargateGbHour).toBe(old.regions["us-east-1"]!.fargateGbHour);
        expect(r.ambiguous).toEqual(["fargateGbHour (0.0045, 0.0047)"]);
        expect(r.kept).toEqual(expect.arrayContaining(["albHour", "kmsKeyMonth", "rdsInstanceHour.db.t4g.micro", "crossRegionTransferGb"]));
        expect(r.updated).toEqual(expect.arrayContaining(["rdsInstanceHour.db.r6g.large", "natHour", "auroraIoPerMillion"]));
        expect(us.kmsKeyMonth).toBe(old.regions["us-east-1"]!.kmsKeyMonth);
    });

    it("dates the table, says where the region's prices came from, leaves other regions and the committed table alone", () => {
        expect(table.asOf).toBe("2026-12-01");
        expect(table.provenance["us-east-1"]).toMatch(/^Refreshed on 2026-12-01 from AWS Price List offer files \(AmazonEC2, AmazonECS, AmazonRDS; published 2026-10-01\)/);
        expect(table.regions["eu-west-1"]).toEqual(old.regions["eu-west-1"]);
        expect(table.provenance["eu-west-1"]).toBe(old.provenance["eu-west-1"]);
        expect(priceTableProblems(table)).toEqual([]);
        expect(committedPrices().regions["us-east-1"]!.rdsInstanceHour["db.r6g.large"]).toBe(0.225);
    });

    it("usage types lose their region prefix, and only that", () => {
        expect(["EUC1-NatGateway-Hours", "EU-NatGateway-Hours", "NatGateway-Hours", "APS2-CW:AlarmMonitorUsage", "PS-Advanced-Param-Tier1"].map((u) => usageOf({ usagetype: u })))
            .toEqual(["NatGateway-Hours", "NatGateway-Hours", "NatGateway-Hours", "CW:AlarmMonitorUsage", "PS-Advanced-Param-Tier1"]);
    });
});

describe("the committed price table", () => {
    it("prices every field in every region, and names where each region's prices come from", () => {
        expect(priceTableProblems(committedPrices())).toEqual([]);
        expect(Object.keys(committedPrices().regions).sort()).toEqual(["ap-southeast-2", "eu-central-1", "eu-west-1", "us-east-1"]);
    });

    it("a broken table is reported field by field", () => {
        const broken = structuredClone(committedPrices()) as unknown as { regions: Record<string, Record<string, unknown>> };
        delete broken.regions["eu-west-1"]!.natHour;
        broken.regions["us-east-1"]!.albHour = -1;
        broken.regions["us-east-1"]!.surprise = 1;
        expect(priceTableProblems(broken)).toEqual([
            "regions.us-east-1.albHour: must be a price (a number, 0 or more)",
            "regions.us-east-1.surprise: is not a price the estimate uses (allowed: " + Object.keys(committedPrices().regions["us-east-1"]!).join(", ") + ")",
            "regions.eu-west-1.natHour: must be a price (a number, 0 or more)",
        ]);
    });
});
