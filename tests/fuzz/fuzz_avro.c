/* fuzz_avro.c: the Avro decoder: the bounds-checking walk of each record
 * against the schema, avro-c's decoding of what the walk accepts, the
 * Confluent framing and schema-id check, and field values into records.
 * The schema is tests/fuzz/fuzz.avsc (every Avro type; a recursive record;
 * fields of every role): its path is compiled in (FUZZ_AVSC) and
 * EDDY_FUZZ_AVSC overrides it. Each input is decoded by three decoders
 * (wire format auto with any schema id, confluent with id 7, plain) against
 * a fresh schema, and each decoded record is checked. Seeds: corpus/avro/
 * (make_corpus writes them with avro-c). */
#include "fuzz.h"

#ifndef FUZZ_AVSC
#define FUZZ_AVSC "tests/fuzz/fuzz.avsc"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_options(void);

/* avro-c's generic records pack their fields' instances without aligning
 * them (an int field puts the next field's pointers at an offset of 4), and
 * LeakSanitizer only follows aligned pointers by default: without this it
 * reports the decoders' live map values as leaked. */
const char *__lsan_default_options(void) { return "use_unaligned=1"; }

#define N_DEC 3

static struct {
  eddy_config_t *conf[N_DEC];
  eddy_fields_t *fields;
  eddy_decoder_t *dec[N_DEC];
  eddy_record_t rec;
} t;

static void setup(void) {
  const char *avsc = getenv("EDDY_FUZZ_AVSC") ? getenv("EDDY_FUZZ_AVSC") : FUZZ_AVSC;
  static const char *const wire[N_DEC][2] = {{"auto", "-1"}, {"confluent", "7"}, {"plain", "-1"}};
  char err[1024];
  for (int i = 0; i < N_DEC; i++) {
    eddy_buf_t b;
    eddy_buf_init(&b);
    eddy_buf_printf(&b,
                    "[pipeline]\nname = avro\n"
                    "[source]\nformat = avro\nschema = %s\nwire_format = %s\nschema_id = %s\n"
                    "max_record_bytes = 1048576\n"
                    "[features]\nnumeric = amount, hour, count, ratio, score\n"
                    "nominal = flag, merchant, country, channel, raw\n"
                    "target = label\nkey = user\nid = txn\ntimestamp = ts\nweight = w\n"
                    "max_values = 4\nmax_classes = 3\n",
                    avsc, wire[i][0], wire[i][1]);
    eddy_buf_put_u8(&b, 0);
    t.conf[i] = fuzz_config((const char *)b.data);
    eddy_buf_free(&b);
    const eddy_pipeline_conf_t *pc = &t.conf[i]->pipelines[0];
    if (!t.fields) {
      t.fields = eddy_fields_new(pc, NULL, 0, NULL, 0, err, sizeof err);
      FUZZ_CHECK(t.fields, "%s", err);
    }
    t.dec[i] = eddy_decoder_new(EDDY_FORMAT_AVRO, t.fields, pc, NULL, 0, err, sizeof err);
    FUZZ_CHECK(t.dec[i], "%s (set EDDY_FUZZ_AVSC to tests/fuzz/fuzz.avsc)", err);
  }
  FUZZ_CHECK(eddy_record_init(&t.rec, t.fields) == 0, "out of memory");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!t.fields) setup();
  char err[1024];
  eddy_schema_t *s = eddy_fields_schema(t.fields, err, sizeof err);
  FUZZ_CHECK(s, "%s", err);
  for (int i = 0; i < N_DEC; i++) {
    err[0] = '\0';
    if (eddy_decoder_decode(t.dec[i], s, data, size, &t.rec, err, sizeof err) == 0)
      fuzz_check_record(s, &t.rec);
    else
      FUZZ_CHECK(err[0], "a failed decode without a message");
  }
  eddy_schema_free(s);
  return 0;
}
