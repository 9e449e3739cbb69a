/* decoder.c: the generic side of record decoders: picks the codec for a
 * format and sizes the scratch every codec decodes into. */
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"

eddy_decoder_t *eddy_decoder_new(eddy_format_t format, const eddy_fields_t *fields,
                                 const eddy_pipeline_conf_t *conf, const char *const *columns,
                                 size_t n_columns, char *errstr, size_t errstr_size) {
  const eddy_codec_t *codec = format == EDDY_FORMAT_CSV    ? &eddy_codec_csv
                              : format == EDDY_FORMAT_JSON ? &eddy_codec_json
                                                           : &eddy_codec_avro;
  eddy_decoder_t *d = calloc(1, sizeof *d);
  if (!d) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  d->codec = codec;
  d->fields = fields;
  d->conf = conf;
  d->scratch_size = (size_t)conf->source.max_record_bytes + 1;
  d->scratch = malloc(d->scratch_size);
  if (!d->scratch) {
    free(d);
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  if (codec->create && codec->create(d, columns, n_columns, errstr, errstr_size)) {
    free(d->scratch);
    free(d);
    return NULL;
  }
  return d;
}

void eddy_decoder_free(eddy_decoder_t *d) {
  if (!d) return;
  if (d->codec->destroy) d->codec->destroy(d);
  free(d->scratch);
  free(d);
}

int eddy_decoder_decode(eddy_decoder_t *d, eddy_schema_t *s, const void *p, size_t len,
                        eddy_record_t *r, char *errstr, size_t errstr_size) {
  eddy_record_clear(r);
  if (len >= d->scratch_size)
    return eddy_seterr(errstr, errstr_size, EDDY_ERANGE,
                       "record of %zu bytes is larger than max_record_bytes = %zu", len,
                       d->scratch_size - 1);
  return d->codec->decode(d, s, p, len, r, errstr, errstr_size);
}
