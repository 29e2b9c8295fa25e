/* The smallest librdkafka client, with no cep code: a producer on an in-process mock cluster
 * (test.mock.num.brokers) produces one message and flushes it. Built with -fsanitize=thread
 * against Debian's librdkafka it dies with SIGSEGV in the TSan allocator on a broker thread
 * (README.md); with c11_threads_shim.c linked in, it runs. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>

int main(void) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof err) !=
      RD_KAFKA_CONF_OK) {
    fprintf(stderr, "librdkafka_min: %s\n", err);
    return 2;
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == NULL) {
    fprintf(stderr, "librdkafka_min: %s\n", err);
    return 2;
  }
  rd_kafka_resp_err_t e =
      rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_VALUE("x", 1),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
    e = rd_kafka_flush(rk, 10000);
  }
  fprintf(stderr, "librdkafka_min: %s\n", rd_kafka_err2str(e));
  rd_kafka_destroy(rk);
  return e == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : 1;
}
