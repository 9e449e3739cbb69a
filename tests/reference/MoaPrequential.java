// MoaPrequential.java: runs a MOA classifier prequentially (predict, then
// learn) over an ARFF file through MOA's Java API and writes one line per
// row: the predicted class index (MOA's Utils.maxIndex: first on ties),
// then MOA's raw votes. Prints rows, correct predictions and accuracy.
// Used by moa_prequential.sh to compare eddy's learners with MOA row by row.
import com.yahoo.labs.samoa.instances.Instance;
import java.io.BufferedWriter;
import java.io.FileWriter;
import java.io.PrintWriter;
import moa.classifiers.Classifier;
import moa.streams.ArffFileStream;

public class MoaPrequential {
  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: MoaPrequential FILE.arff OUT.txt moa.classifiers.CLASS");
      System.exit(2);
    }
    ArffFileStream stream = new ArffFileStream(args[0], -1);
    stream.prepareForUse();
    Classifier learner =
        (Classifier) Class.forName(args[2]).getDeclaredConstructor().newInstance();
    learner.setModelContext(stream.getHeader());
    learner.prepareForUse();
    long n = 0, correct = 0;
    try (PrintWriter out = new PrintWriter(new BufferedWriter(new FileWriter(args[1])))) {
      while (stream.hasMoreInstances()) {
        Instance inst = stream.nextInstance().getData();
        double[] votes = learner.getVotesForInstance(inst);
        int best = 0;
        for (int i = 1; i < votes.length; i++) if (votes[i] > votes[best]) best = i;
        if (best == (int) inst.classValue()) correct++;
        StringBuilder line = new StringBuilder().append(best);
        for (double v : votes) line.append(' ').append(v);
        out.println(line);
        learner.trainOnInstance(inst);
        n++;
      }
    }
    System.out.println(n + " rows, " + correct + " correct, accuracy " + (double) correct / n);
  }
}
