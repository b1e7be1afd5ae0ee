package io.semnet.core.record;

/**
 * A geographic position (degrees), used by {@code closest} when no RTT is known. Immutable.
 */
public final class GeoPoint {
  private static final double EARTH_RADIUS_KM = 6371.0;
  private final double latitude;
  private final double longitude;

  private GeoPoint(double latitude, double longitude) {
    if (!(latitude >= -90 && latitude <= 90) || !(longitude >= -180 && longitude <= 180)) {
      throw new IllegalArgumentException("bad coordinates " + latitude + "," + longitude);
    }
    this.latitude = latitude;
    this.longitude = longitude;
  }

  public static GeoPoint of(double latitude, double longitude) {
    return new GeoPoint(latitude, longitude);
  }

  public double latitude() {
    return latitude;
  }

  public double longitude() {
    return longitude;
  }

  /** Great-circle distance in kilometres (haversine). */
  public double distanceKm(GeoPoint o) {
    double dLat = Math.toRadians(o.latitude - latitude);
    double dLon = Math.toRadians(o.longitude - longitude);
    double a = Math.sin(dLat / 2) * Math.sin(dLat / 2)
        + Math.cos(Math.toRadians(latitude)) * Math.cos(Math.toRadians(o.latitude)) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1.0, Math.sqrt(a)));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GeoPoint
        && Double.compare(((GeoPoint) o).latitude, latitude) == 0
        && Double.compare(((GeoPoint) o).longitude, longitude) == 0;
  }

  @Override
  public int hashCode() {
    return Double.hashCode(latitude) * 31 + Double.hashCode(longitude);
  }

  @Override
  public String toString() {
    return latitude + "," + longitude;
  }
}
