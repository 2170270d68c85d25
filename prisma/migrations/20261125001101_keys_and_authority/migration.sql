-- CreateTable
CREATE TABLE "encrypted_keys" (
    "id" UUID NOT NULL,
    "purpose" TEXT NOT NULL,
    "key_type" TEXT NOT NULL,
    "master_key_id" TEXT NOT NULL,
    "algorithm" TEXT NOT NULL DEFAULT 'A256GCM',
    "wrapped_key" BYTEA NOT NULL,
    "wrap_nonce" BYTEA NOT NULL,
    "nonce" BYTEA NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "encrypted_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "authority_certificates" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "key_id" UUID,
    "der" BYTEA NOT NULL,
    "serial" TEXT NOT NULL,
    "not_after" TIMESTAMPTZ(3) NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "authority_certificates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "counters" (
    "name" TEXT NOT NULL,
    "value" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "counters_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE UNIQUE INDEX "authority_certificates_serial_key" ON "authority_certificates"("serial");

-- CreateIndex
CREATE INDEX "authority_certificates_kind_active_idx" ON "authority_certificates"("kind", "active");

-- AddForeignKey
ALTER TABLE "authority_certificates" ADD CONSTRAINT "authority_certificates_key_id_fkey" FOREIGN KEY ("key_id") REFERENCES "encrypted_keys"("id") ON DELETE SET NULL ON UPDATE CASCADE;
