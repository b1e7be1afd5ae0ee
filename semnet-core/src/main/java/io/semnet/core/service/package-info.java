/** Service identity and the semantic name grammar ({@code app.appns.service.servicens.<instance|any>.<policy|none>.local}). */
package io.semnet.core.service;
