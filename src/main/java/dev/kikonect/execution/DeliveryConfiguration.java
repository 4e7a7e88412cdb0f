package dev.kikonect.execution;

import dev.kikonect.KiKonectProperties;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class DeliveryConfiguration {

  @Bean
  AddressGuard addressGuard(KiKonectProperties properties) {
    return new AddressGuard(
        properties.delivery().allowPrivateNetworks(),
        properties.delivery().allowedCidrs().stream().map(AddressGuard.Cidr::parse).toList());
  }

  /** The JVM's default trust store; tests replace it to trust their own certificate. */
  @Bean
  @ConditionalOnMissingBean
  DeliveryClient.Tls deliveryTls() {
    return DeliveryClient.Tls.SYSTEM;
  }
}
