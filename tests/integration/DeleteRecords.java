// DeleteRecords.java: moves a partition's log start offset on Apache Kafka
// (Admin.deleteRecords: what retention does, on demand), for the tests of
// records skipped because the broker no longer has them. Run as a
// single-file program: java -cp '.cache/kafka/libs/*' DeleteRecords.java
// BOOTSTRAP TOPIC PARTITION BEFORE_OFFSET
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.common.TopicPartition;

public class DeleteRecords {
  public static void main(String[] a) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, a[0]);
    try (Admin admin = Admin.create(p)) {
      TopicPartition tp = new TopicPartition(a[1], Integer.parseInt(a[2]));
      long lo = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(Long.parseLong(a[3]))))
                    .lowWatermarks().get(tp).get().lowWatermark();
      System.out.println(lo);
    }
  }
}
