-- CreateTable
CREATE TABLE "legal_entity_details" (
    "organisation_id" UUID NOT NULL,
    "logo_uri" TEXT NOT NULL,
    "abn" TEXT,
    "acn" TEXT,
    "arbn" TEXT,
    "anzsic_division" TEXT,
    "organisation_type" TEXT,
    "accreditation_number" TEXT,
    "accreditation_level" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "legal_entity_details_pkey" PRIMARY KEY ("organisation_id")
);

-- CreateTable
CREATE TABLE "brands" (
    "id" UUID NOT NULL,
    "organisation_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "brand_group" TEXT,
    "logo_uri" TEXT NOT NULL,
    "industries" TEXT[],
    "status" TEXT NOT NULL DEFAULT 'active',
    "endpoint_version" TEXT,
    "public_base_uri" TEXT,
    "resource_base_uri" TEXT,
    "infosec_base_uri" TEXT,
    "product_base_uri" TEXT,
    "extension_base_uri" TEXT,
    "website_uri" TEXT,
    "jwks_endpoint" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "brands_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "software_products" (
    "software_statement_id" UUID NOT NULL,
    "brand_id" UUID NOT NULL,
    "recipient_base_uri" TEXT NOT NULL,
    "sector_identifier_uri" TEXT,
    "jwks_uri" TEXT,
    "revocation_uri" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "software_products_pkey" PRIMARY KEY ("software_statement_id")
);

-- CreateIndex
CREATE INDEX "brands_organisation_id_idx" ON "brands"("organisation_id");

-- CreateIndex
CREATE INDEX "brands_kind_idx" ON "brands"("kind");

-- CreateIndex
CREATE INDEX "software_products_brand_id_idx" ON "software_products"("brand_id");

-- AddForeignKey
ALTER TABLE "legal_entity_details" ADD CONSTRAINT "legal_entity_details_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "brands" ADD CONSTRAINT "brands_organisation_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "software_products" ADD CONSTRAINT "software_products_software_statement_id_fkey" FOREIGN KEY ("software_statement_id") REFERENCES "software_statements"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "software_products" ADD CONSTRAINT "software_products_brand_id_fkey" FOREIGN KEY ("brand_id") REFERENCES "brands"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The values the CDR Register API publishes (brand kind and status enums).
ALTER TABLE "brands" ADD CONSTRAINT "brands_kind_check" CHECK ("kind" IN ('data-holder', 'data-recipient'));
ALTER TABLE "brands" ADD CONSTRAINT "brands_status_check" CHECK ("status" IN ('active', 'inactive', 'removed'));
