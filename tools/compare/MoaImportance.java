// MoaImportance.java: MOA's own feature importance of a Hoeffding tree
// (moa.learners.featureanalysis.FeatureImportanceHoeffdingTree, MDI, with
// its default HoeffdingTree) trained on every instance of an ARFF file
// (class last), for the importance parity test.
//
//   java -cp moa.jar:DIR MoaImportance FILE.arff
//
// Prints one JSON line: {"tool":"moa","instances":N,"importance":{NAME: v}}
// with MOA's unnormalised values (getFeatureImportances(false)).
import moa.learners.featureanalysis.FeatureImportanceHoeffdingTree;
import moa.streams.ArffFileStream;

public class MoaImportance {
  public static void main(String[] args) {
    if (args.length != 1) {
      System.err.println("usage: MoaImportance FILE.arff");
      System.exit(2);
    }
    ArffFileStream stream = new ArffFileStream(args[0], -1);
    stream.prepareForUse();
    FeatureImportanceHoeffdingTree learner = new FeatureImportanceHoeffdingTree();
    learner.setModelContext(stream.getHeader());
    learner.prepareForUse();
    long n = 0;
    while (stream.hasMoreInstances()) {
      learner.trainOnInstance(stream.nextInstance().getData());
      n++;
    }
    double[] imp = learner.getFeatureImportances(false);
    StringBuilder out = new StringBuilder("{\"tool\":\"moa\",\"instances\":" + n + ",\"importance\":{");
    for (int i = 0; i < imp.length; i++) {
      String name = stream.getHeader().attribute(i).name().replace("\\", "\\\\").replace("\"", "\\\"");
      out.append(i > 0 ? "," : "").append('"').append(name).append("\":").append(Double.toString(imp[i]));
    }
    System.out.println(out.append("}}"));
  }
}
